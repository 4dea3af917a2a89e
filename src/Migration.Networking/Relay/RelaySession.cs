using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;
using Migration.Networking.Plain;

namespace Migration.Networking.Relay;

/// <summary>
/// Everything the relay holds for one VM: its public listeners and its client streams, and which host link carries
/// each. Hosts come and go (a migration is one leaving and another attaching); clients stay connected to the relay.
/// One lock guards the whole session; sends to links only queue, so nothing blocks under it.
/// </summary>
internal sealed partial class RelaySession(string identity, RelayServer server)
{
    /// <summary>Streams one VM may have at once; a client beyond it is reset at the door.</summary>
    public const int MaxStreams = 4096;

    /// <summary>
    /// How long clients and ports wait for a host after theirs left without handing them over (a host that died): a
    /// migration re-attaches within its downtime, so anything still waiting after this is given up, clients reset.
    /// </summary>
    public static readonly TimeSpan OrphanLimit = TimeSpan.FromSeconds(60);

    private readonly Lock _gate = new();
    private readonly Dictionary<uint, RelayClientStream> _streams = [];
    private readonly Dictionary<uint, RelayPublicListener> _listeners = [];

    public string Identity { get; } = identity;

    public void Handle(RelayHostConnection host, RelayFrame frame)
    {
        var payload = frame.Payload.Span;
        lock (_gate)
        {
            switch (frame.Type)
            {
                case RelayFrameType.Bind:
                    Bind(host, frame.Stream, payload);
                    break;
                case RelayFrameType.Listen:
                    Listen(host, frame.Stream, payload);
                    break;
                case RelayFrameType.Release:
                    Release(host, frame.Stream);
                    break;
                case RelayFrameType.Activate:
                    Activate(host);
                    break;
                case RelayFrameType.Freeze:
                    Freeze(host, payload);
                    break;
                case RelayFrameType.Attach:
                    Attach(host, frame.Stream, RelayProtocol.ReadCounter(payload, frame.Type));
                    break;
                default:
                    HandleStream(host, frame, payload);
                    break;
            }
        }
    }

    /// <summary>The host's link ended: what it carried waits here for the next host of the VM.</summary>
    public void Detach(RelayHostConnection host)
    {
        lock (_gate)
        {
            host.Closed = true;
            foreach (var stream in _streams.Values)
            {
                if (stream.Owner == host)
                {
                    stream.Owner = null;
                }

                if (stream.Offered == host)
                {
                    stream.Offered = null;
                }
            }

            foreach (var listener in _listeners.Values.Where(l => l.Owner == host))
            {
                listener.Owner = null;
                listener.Active = false;
            }
        }

        _ = ReapLaterAsync();
    }

    private async Task ReapLaterAsync()
    {
        await Task.Delay(OrphanLimit + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        var now = Environment.TickCount64;
        bool Orphaned(long since) => since != 0 && now - since >= (long)OrphanLimit.TotalMilliseconds;
        lock (_gate)
        {
            foreach (var stream in _streams.Values.Where(s => s.Admitted && Orphaned(s.UnownedSince)).ToList())
            {
                End(stream, reset: true);
            }

            foreach (var listener in _listeners.Values.Where(l => Orphaned(l.UnownedSince)).ToList())
            {
                Release(listener);
            }
        }
    }

    public void CloseAll()
    {
        lock (_gate)
        {
            foreach (var listener in _listeners.Values)
            {
                listener.Stop.Cancel();
                listener.Socket.Dispose();
            }

            foreach (var stream in _streams.Values)
            {
                stream.Ended = true;
                stream.Stop.Cancel();
                stream.Client.Dispose();
            }

            _listeners.Clear();
            _streams.Clear();
        }
    }

    private void Bind(RelayHostConnection host, uint request, ReadOnlySpan<byte> payload)
    {
        var endpoint = RelayProtocol.ParseEndpoint(payload, "Bind endpoint");
        if (_listeners.Values.FirstOrDefault(l => l.Endpoint.Equals(endpoint)) is { } existing)
        {
            // The VM's port, held since its last host: the new host takes it over, silently until it activates.
            existing.Owner = host;
            existing.Active = false;
            host.Link.Send(RelayFrameType.Bound, request, Bound(0, existing.Id, takeover: true, existing.Endpoint));
            return;
        }

        Socket? socket = null;
        try
        {
            socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(endpoint);
        }
        catch (SocketException e)
        {
            socket?.Dispose();
            host.Link.Send(RelayFrameType.Bound, request, Bound(SocketErrorMapping.ToErrno(e), 0, takeover: false, endpoint));
            return;
        }

        var listener = new RelayPublicListener(server.NextId(), socket) { Owner = host, Active = true };
        _listeners.Add(listener.Id, listener);
        host.Link.Send(RelayFrameType.Bound, request, Bound(0, listener.Id, takeover: false, listener.Endpoint));
    }

    private void Listen(RelayHostConnection host, uint request, ReadOnlySpan<byte> payload)
    {
        if (payload.Length != 8)
        {
            throw new RelayProtocolException($"Listen payload must be a listener and a backlog (8 bytes), got {payload.Length}");
        }

        var errno = 0;
        if (!_listeners.TryGetValue(BinaryPrimitives.ReadUInt32LittleEndian(payload), out var listener) || listener.Owner != host)
        {
            errno = SocketErrno.EINVAL;
        }
        else if (!listener.Listening)
        {
            try
            {
                listener.Socket.Listen(Math.Clamp(BinaryPrimitives.ReadInt32LittleEndian(payload[4..]), 1, VirtualSocket.MaxConnectionQueue));
                listener.Listening = true;
                _ = AcceptAsync(listener);
            }
            catch (SocketException e)
            {
                errno = SocketErrorMapping.ToErrno(e);
            }
        }

        var answer = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(answer, errno);
        host.Link.Send(RelayFrameType.Listening, request, answer);
    }

    private static byte[] Bound(int errno, uint listener, bool takeover, IPEndPoint endpoint)
    {
        var text = RelayProtocol.Endpoint(endpoint);
        var bytes = new byte[9 + text.Length];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, errno);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), listener);
        bytes[8] = takeover ? (byte)1 : (byte)0;
        text.CopyTo(bytes, 9);
        return bytes;
    }

    private void Release(RelayHostConnection host, uint id)
    {
        if (_listeners.TryGetValue(id, out var listener) && listener.Owner == host)
        {
            Release(listener);
        }
    }

    private void Release(RelayPublicListener listener)
    {
        _listeners.Remove(listener.Id);
        listener.Stop.Cancel();
        listener.Socket.Dispose();
        foreach (var waiting in _streams.Values.Where(s => s.Listener == listener && !s.Admitted).ToList())
        {
            End(waiting, reset: true);
        }
    }

    private void Activate(RelayHostConnection host)
    {
        foreach (var listener in _listeners.Values.Where(l => l.Owner == host))
        {
            listener.Active = true;
        }

        foreach (var waiting in _streams.Values.Where(s => !s.Admitted && s.Offered is null && s.Listener.Owner == host && s.Listener.Active))
        {
            Offer(waiting, host);
        }
    }

    private void Freeze(RelayHostConnection host, ReadOnlySpan<byte> payload)
    {
        if (payload.Length % 4 != 0)
        {
            throw new RelayProtocolException($"Freeze payload of {payload.Length} bytes is not a list of stream numbers");
        }

        for (var at = 0; at < payload.Length; at += 4)
        {
            if (_streams.TryGetValue(BinaryPrimitives.ReadUInt32LittleEndian(payload[at..]), out var stream) && stream.Owner == host)
            {
                stream.Owner = null;
            }
        }

        // Offers not taken yet go back to waiting: the guest that gets them is the one that runs next.
        foreach (var stream in _streams.Values.Where(s => s.Offered == host))
        {
            stream.Offered = null;
        }

        foreach (var listener in _listeners.Values.Where(l => l.Owner == host))
        {
            listener.Active = false;
        }

        host.Link.Send(RelayFrameType.Frozen, 0);
    }

    private void Attach(RelayHostConnection host, uint id, long delivered)
    {
        if (!_streams.TryGetValue(id, out var stream) || !stream.Admitted || delivered < stream.Acknowledged || delivered > stream.ReadTotal)
        {
            host.Link.Send(RelayFrameType.AttachFailed, id);
            return;
        }

        stream.FromClient.Discard((int)(delivered - stream.Acknowledged));
        stream.Acknowledged = delivered;
        stream.Owner = host;
        stream.Room.Set();
        host.Link.Send(RelayFrameType.Attached, id, RelayProtocol.Counter(stream.Received));
        Replay(stream, host);
    }

    private void Replay(RelayClientStream stream, RelayHostConnection host)
    {
        stream.Replay(host);
        if (stream.ClientReset)
        {
            End(stream, reset: true);
        }
    }

    private void HandleStream(RelayHostConnection host, RelayFrame frame, ReadOnlySpan<byte> payload)
    {
        if (!_streams.TryGetValue(frame.Stream, out var stream))
        {
            // A stream that ended while the frame was on its way.
            return;
        }

        if (frame.Type == RelayFrameType.Accepted || frame.Type == RelayFrameType.Refused)
        {
            if (stream.Offered != host)
            {
                return;
            }

            stream.Offered = null;
            if (frame.Type == RelayFrameType.Refused)
            {
                End(stream, reset: true);
                return;
            }

            stream.Admitted = true;
            stream.Owner = host;
            Replay(stream, host);
            return;
        }

        // Frames from a link that no longer carries the stream are stale: the new host's Attach settled the counters.
        if (stream.Owner != host)
        {
            return;
        }

        switch (frame.Type)
        {
            case RelayFrameType.Data:
                if (stream.HostFin || stream.HostClose)
                {
                    throw new RelayProtocolException($"Data on stream {stream.Id} after its end");
                }

                if (stream.ToClient.Enqueue(payload) != payload.Length)
                {
                    throw new RelayProtocolException($"stream {stream.Id} overran its window of {stream.ToClient.Capacity} bytes");
                }

                stream.Received += payload.Length;
                stream.Output.Set();
                break;
            case RelayFrameType.Ack:
                var acknowledged = RelayProtocol.ReadCounter(payload, frame.Type);
                if (acknowledged > stream.ReadTotal)
                {
                    throw new RelayProtocolException($"stream {stream.Id}: acknowledged {acknowledged} bytes of the {stream.ReadTotal} sent");
                }

                if (acknowledged > stream.Acknowledged)
                {
                    stream.FromClient.Discard((int)(acknowledged - stream.Acknowledged));
                    stream.Acknowledged = acknowledged;
                    stream.Room.Set();
                }

                break;
            case RelayFrameType.Eof:
                stream.HostFin = true;
                stream.Output.Set();
                break;
            case RelayFrameType.Close:
                stream.HostClose = true;
                stream.Output.Set();
                break;
            case RelayFrameType.Reset:
                End(stream, reset: true);
                break;
            default:
                throw new RelayProtocolException($"a host does not send {frame.Type} frames");
        }
    }

    private static void Offer(RelayClientStream stream, RelayHostConnection host)
    {
        stream.Offered = host;
        var local = RelayProtocol.Endpoint((IPEndPoint)stream.Client.LocalEndPoint!);
        var remote = RelayProtocol.Endpoint((IPEndPoint)stream.Client.RemoteEndPoint!);
        var payload = new byte[6 + local.Length + remote.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, stream.Listener.Id);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(4), (ushort)local.Length);
        local.CopyTo(payload, 6);
        remote.CopyTo(payload, 6 + local.Length);
        host.Link.Send(RelayFrameType.Open, stream.Id, payload);
    }

    /// <summary>Forgets a stream and lets go of its client: with a reset (zero linger), or after a graceful close already done.</summary>
    private void End(RelayClientStream stream, bool reset)
    {
        if (stream.Ended)
        {
            return;
        }

        stream.Ended = true;
        _streams.Remove(stream.Id);
        if (reset)
        {
            try
            {
                stream.Client.LingerState = new LingerOption(true, 0);
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }

        stream.Stop.Cancel();
        stream.Client.Dispose();
    }

    public override string ToString() => $"VM {Identity}: {_listeners.Count} listener(s), {_streams.Count} stream(s)";
}
