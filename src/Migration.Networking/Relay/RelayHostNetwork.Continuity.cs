using System.Buffers.Binary;
using System.Net;
using Migration.Core.Sockets;

namespace Migration.Networking.Relay;

/// <summary>Detaching the VM's streams at a migration's switch-over, and re-attaching them on the host that runs it next (or here, on rollback).</summary>
public sealed partial class RelayHostNetwork
{
    public async Task<IReadOnlyList<VirtualSocket>> FreezeAsync(IReadOnlyList<VirtualSocket> sockets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sockets);
        var stack = Stack;
        List<RelayHostListener> listeners;
        lock (stack.SyncRoot)
        {
            listeners = [.. sockets.Select(s => s.Host).OfType<RelayHostListener>()];
        }

        // No client may join a connection queue once its contents are decided.
        foreach (var listener in listeners)
        {
            lock (_gate)
            {
                listener.Closed = true;
            }

            await listener.Admitting.IdleAsync().WaitAsync(RequestLimit, cancellationToken).ConfigureAwait(false);
        }

        List<RelayHostStream> streams;
        lock (stack.SyncRoot)
        {
            streams = [.. sockets.Concat(listeners.SelectMany(l => l.Socket.ConnectionQueue)).Select(s => s.Host).OfType<RelayHostStream>()
                .Where(s => s.State is RelayHostStreamState.Live or RelayHostStreamState.Attaching).Distinct()];
        }

        if (listeners.Count == 0 && streams.Count == 0)
        {
            return [];
        }

        var frozen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ids = new byte[4 * streams.Count];
        for (var i = 0; i < streams.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(ids.AsSpan(4 * i), streams[i].Id);
        }

        RelayLink? link;
        lock (_gate)
        {
            _frozen = frozen;
            link = _link;
        }

        if (link is null || !link.Send(RelayFrameType.Freeze, 0, ids))
        {
            throw new RelayException($"relay {_relay}: no link to detach the VM's connections on ({LinkError})");
        }

        // After Frozen the relay sends nothing more for these streams, and ignores what this host still sends for them.
        await frozen.Task.WaitAsync(RequestLimit, cancellationToken).ConfigureAwait(false);
        foreach (var stream in streams)
        {
            stream.Frozen = true;
            await stream.Work.IdleAsync().WaitAsync(RequestLimit, cancellationToken).ConfigureAwait(false);
        }

        var result = new List<VirtualSocket>();
        lock (stack.SyncRoot)
        {
            foreach (var stream in streams.Where(s => s.State != RelayHostStreamState.Ended))
            {
                stream.Socket.RelayConnection = new RelayConnectionState
                {
                    Stream = stream.Id,
                    Delivered = stream.Delivered,
                    Acknowledged = stream.Front,
                    Public = stream.Socket.HostEndpoint ?? "",
                };
                stream.State = RelayHostStreamState.Frozen;
                stream.Socket.Host = null;
                Forget(stream);
                result.Add(stream.Socket);
            }

            foreach (var listener in listeners)
            {
                lock (_gate)
                {
                    _listeners.Remove(listener.Id);
                }

                // Offers not admitted go back to the relay's waiting clients: the host that runs the VM next gets them.
                listener.Socket.Host = null;
                result.Add(listener.Socket);
            }
        }

        return result;
    }

    public int PrepareConnection(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.RelayConnection is not { } state)
        {
            // A connection frozen by another backend (TCP repair) cannot be carried by a relay.
            return SocketErrno.EOPNOTSUPP;
        }

        if (!TryLink(out var errno))
        {
            return errno;
        }

        var stream = new RelayHostStream(this, state.Stream, socket, RelayHostStreamState.Prepared)
        {
            Delivered = state.Delivered,
            Front = state.Acknowledged,
            Sent = state.Acknowledged,
        };
        lock (_gate)
        {
            _streams[state.Stream] = stream;
        }

        socket.Host = stream;
        socket.HostEndpoint = state.Public;
        return 0;
    }

    public void ActivateConnections(IReadOnlyList<VirtualSocket> sockets, IReadOnlyList<IPEndPoint> unlock)
    {
        ArgumentNullException.ThrowIfNull(sockets);
        foreach (var stream in sockets.Select(s => s.Host).OfType<RelayHostStream>().Where(s => s.State == RelayHostStreamState.Prepared))
        {
            stream.State = RelayHostStreamState.Attaching;
            Send(RelayFrameType.Attach, stream.Id, RelayProtocol.Counter(stream.Delivered));
        }

        List<RelayHostListener> listeners;
        lock (_gate)
        {
            listeners = [.. _listeners.Values];
        }

        foreach (var listener in listeners)
        {
            listener.Active = true;
        }

        // After the attaches, so that the relay offers waiting clients to a guest whose connections are in place.
        Send(RelayFrameType.Activate, 0);
    }
}
