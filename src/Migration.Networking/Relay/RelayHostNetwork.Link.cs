using System.Buffers.Binary;

using Migration.Core.Sockets;

namespace Migration.Networking.Relay;

/// <summary>What arrives on the link: answers, clients, and stream traffic, handed to the streams' own work without waiting for the stack.</summary>
public sealed partial class RelayHostNetwork
{
    private async Task WatchAsync(RelayLink link, Task<Exception?> reading)
    {
        var ended = await reading.ConfigureAwait(false);
        List<RelayHostStream> lost;
        lock (_gate)
        {
            if (_link != link)
            {
                return;
            }

            _link = null;
            if (_disposed)
            {
                return;
            }

            LinkError = $"the link to relay {_relay} ended: {ended?.Message ?? "closed by the relay"}";
            lost = [.. _streams.Values];
            _streams.Clear();
            foreach (var request in _requests.Values)
            {
                request.TrySetCanceled();
            }

            _frozen?.TrySetException(new RelayException(LinkError));
        }

        link.Abort();
        // The relay still holds these clients; without a link to it they cannot be carried, so the guest sees resets.
        foreach (var stream in lost)
        {
            stream.OnReset();
        }
    }

    private void Handle(RelayFrame frame)
    {
        var payload = frame.Payload.Span;
        switch (frame.Type)
        {
            case RelayFrameType.Bound or RelayFrameType.Listening:
                TaskCompletionSource<ReadOnlyMemory<byte>>? request;
                lock (_gate)
                {
                    request = _requests.GetValueOrDefault(frame.Stream);
                }

                if (payload.Length < (frame.Type == RelayFrameType.Bound ? 9 : 4))
                {
                    throw new RelayProtocolException($"{frame.Type} payload of {payload.Length} bytes is too short");
                }

                request?.TrySetResult(frame.Payload);
                return;
            case RelayFrameType.Frozen:
                lock (_gate)
                {
                    _frozen?.TrySetResult();
                }

                return;
            case RelayFrameType.Open:
                Offer(frame.Stream, payload);
                return;
        }

        RelayHostStream? stream;
        lock (_gate)
        {
            stream = _streams.GetValueOrDefault(frame.Stream);
        }

        if (stream is null)
        {
            // A stream this host forgot (closed, reset, frozen) while the frame was on its way.
            return;
        }

        switch (frame.Type)
        {
            case RelayFrameType.Data:
                stream.OnData(payload);
                break;
            case RelayFrameType.Ack:
                stream.OnAck(RelayProtocol.ReadCounter(payload, frame.Type));
                break;
            case RelayFrameType.Eof:
                stream.OnEof();
                break;
            case RelayFrameType.Reset or RelayFrameType.AttachFailed:
                stream.OnReset();
                break;
            case RelayFrameType.Attached:
                stream.OnAttached(RelayProtocol.ReadCounter(payload, frame.Type));
                break;
            default:
                throw new RelayProtocolException($"the relay does not send {frame.Type} frames");
        }
    }

    private void Offer(uint stream, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 6 || BinaryPrimitives.ReadUInt16LittleEndian(payload[4..]) is var localLength && payload.Length < 6 + localLength)
        {
            throw new RelayProtocolException($"Open payload of {payload.Length} bytes is too short");
        }

        var id = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        var local = RelayProtocol.ParseEndpoint(payload.Slice(6, localLength), "Open local endpoint");
        var remote = RelayProtocol.ParseEndpoint(payload[(6 + localLength)..], "Open client endpoint");
        RelayHostListener? listener;
        lock (_gate)
        {
            listener = _listeners.GetValueOrDefault(id);
            listener?.Offers.Enqueue((stream, local, remote));
        }

        if (listener is null)
        {
            Send(RelayFrameType.Refused, stream);
            return;
        }

        listener.Admitting.Schedule();
    }

    /// <summary>Puts offered clients into the guest's connection queue while it has room; ResumeReceive runs this again when it has more.</summary>
    private void Admit(RelayHostListener listener)
    {
        var stack = Stack;
        while (true)
        {
            (uint Stream, System.Net.IPEndPoint Local, System.Net.IPEndPoint Remote) offer;
            lock (_gate)
            {
                if (listener.Closed || !listener.Offers.TryPeek(out offer))
                {
                    return;
                }
            }

            if (stack.AcceptRoom(listener.Socket) == 0)
            {
                return;
            }

            var connection = new VirtualSocket
            {
                HostEndpoint = offer.Local.ToString(),
                Options = listener.Socket.Options.Clone(),
            };
            var stream = new RelayHostStream(this, offer.Stream, connection, RelayHostStreamState.Live);
            connection.Host = stream;
            lock (_gate)
            {
                if (listener.Closed)
                {
                    return;
                }

                listener.Offers.Dequeue();
                _streams[offer.Stream] = stream;
            }

            // Accepted is queued on the link before the guest can see the connection: from then on the guest may send,
            // and even close, at once, and the relay drops a stream's frames that come before it counts the stream as
            // this host's.
            Send(RelayFrameType.Accepted, offer.Stream);
            if (!stack.OnAccepted(listener.Socket, connection, offer.Remote))
            {
                Forget(stream);
                Send(RelayFrameType.Reset, offer.Stream);
            }
        }
    }

}
