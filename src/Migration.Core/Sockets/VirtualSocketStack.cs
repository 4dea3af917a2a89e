using System.Net;

namespace Migration.Core.Sockets;

/// <summary>
/// The socket layer the guest talks to: the table of virtual sockets and the semantics of every call on them,
/// with Linux's errno conventions. Host I/O is left to an <see cref="IHostNetwork"/> backend, which reports
/// arrivals through the <c>On…</c> methods. One lock guards the table and every socket in it.
/// </summary>
public sealed partial class VirtualSocketStack : IDisposable
{
    public const int DefaultMaxSockets = 1024;

    private readonly SortedDictionary<int, VirtualSocket> _sockets = [];
    private readonly IHostNetwork _network;
    private readonly PortMap _ports;

    public VirtualSocketStack(IHostNetwork network, PortMap ports, int maxSockets = DefaultMaxSockets)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(ports);
        _network = network;
        _ports = ports;
        MaxSockets = maxSockets;
        network.Attach(this);
    }

    /// <summary>
    /// Fires whenever host I/O changed a socket, so a blocked guest call can be issued again. Usually outside the
    /// lock, but a send that the host completes at once fires it on the caller's thread with the lock held:
    /// handlers must only signal, never call back into the stack from another thread and wait.
    /// </summary>
    public event Action? Changed;

    /// <summary>A guest port was bound to a host endpoint; lets a front end print the mapping.</summary>
    public event Action<VirtualSocket, IPEndPoint>? Bound;

    public Lock SyncRoot { get; } = new();

    public int MaxSockets { get; }

    public int Count
    {
        get
        {
            lock (SyncRoot)
            {
                return _sockets.Count;
            }
        }
    }

    /// <summary>The socket with a handle, for inspection and capture; null when there is none.</summary>
    public VirtualSocket? Find(int id)
    {
        lock (SyncRoot)
        {
            return _sockets.GetValueOrDefault(id);
        }
    }

    public IReadOnlyList<VirtualSocket> Snapshot()
    {
        lock (SyncRoot)
        {
            return [.. _sockets.Values];
        }
    }

    public SocketCallResult Socket(VirtualAddressFamily family, VirtualSocketType type, VirtualSocketProtocol? protocol, bool blocking)
    {
        if (family is not (VirtualAddressFamily.IPv4 or VirtualAddressFamily.IPv6))
        {
            return SocketCallResult.Error(SocketErrno.EAFNOSUPPORT);
        }

        var expected = type switch
        {
            VirtualSocketType.Stream => VirtualSocketProtocol.Tcp,
            VirtualSocketType.Datagram => VirtualSocketProtocol.Udp,
            _ => (VirtualSocketProtocol?)null,
        };
        if (expected is null || (protocol is { } p && p != expected))
        {
            return SocketCallResult.Error(SocketErrno.EPROTONOSUPPORT);
        }

        lock (SyncRoot)
        {
            var id = FreeHandle();
            if (id < 0)
            {
                return SocketCallResult.Error(SocketErrno.EMFILE);
            }

            var socket = new VirtualSocket
            {
                Id = id,
                Family = family,
                Type = type,
                Protocol = expected.Value,
                Blocking = blocking,
                Status = SocketStatus.Unconnected,
            };
            socket.Events = socket.ComputeEvents();
            _sockets.Add(id, socket);
            return SocketCallResult.Ok(id);
        }
    }

    public SocketCallResult Bind(int id, GuestEndpoint local)
    {
        ArgumentNullException.ThrowIfNull(local);
        IPEndPoint? host = null;
        VirtualSocket? bound = null;
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (local.Family != socket.Family)
            {
                return SocketCallResult.Error(SocketErrno.EAFNOSUPPORT);
            }

            if (socket.Status != SocketStatus.Unconnected || socket.LocalAddress is not null)
            {
                return SocketCallResult.Error(SocketErrno.EINVAL);
            }

            host = _ports.Resolve(local);
            var error = _network.Bind(socket, host);
            if (error != 0)
            {
                return SocketCallResult.Error(error);
            }

            // Port 0 asks for any port: the guest learns the one the host picked, through getsockname.
            socket.LocalAddress = local.Port == 0 && socket.HostEndpoint is { } h && IPEndPoint.TryParse(h, out var actual)
                ? new GuestEndpoint(local.Address, actual.Port)
                : local;
            socket.Status = SocketStatus.Bound;
            socket.Events = socket.ComputeEvents();
            bound = socket;
        }

        Bound?.Invoke(bound, host);
        return SocketCallResult.Ok();
    }

    public SocketCallResult Listen(int id, int backlog)
    {
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (socket.Type != VirtualSocketType.Stream)
            {
                return SocketCallResult.Error(SocketErrno.EOPNOTSUPP);
            }

            if (socket.Status == SocketStatus.Listening)
            {
                socket.Backlog = Math.Clamp(backlog, 1, VirtualSocket.MaxConnectionQueue);
                return SocketCallResult.Ok();
            }

            if (socket.Status != SocketStatus.Bound)
            {
                // Linux would bind an ephemeral port; a guest server that forgot bind is a bug worth reporting.
                return SocketCallResult.Error(SocketErrno.EINVAL);
            }

            socket.Backlog = Math.Clamp(backlog <= 0 ? 128 : backlog, 1, VirtualSocket.MaxConnectionQueue);

            // Listening before the backend starts its accept loop: the loop asks AcceptRoom, which is 0 for any other status.
            socket.Status = SocketStatus.Listening;
            var error = _network.Listen(socket, socket.Backlog);
            if (error != 0)
            {
                socket.Status = SocketStatus.Bound;
                return SocketCallResult.Error(error);
            }

            socket.Events = socket.ComputeEvents();
            return SocketCallResult.Ok();
        }
    }

    public SocketCallResult Accept(int id, bool nonBlockingResult, out GuestEndpoint? peer)
    {
        peer = null;
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var listener))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (listener.Status != SocketStatus.Listening)
            {
                return SocketCallResult.Error(SocketErrno.EINVAL);
            }

            if (listener.ConnectionQueue.Count == 0)
            {
                return listener.Blocking ? SocketCallResult.Block : SocketCallResult.Error(SocketErrno.EAGAIN);
            }

            var handle = FreeHandle();
            if (handle < 0)
            {
                return SocketCallResult.Error(SocketErrno.EMFILE);
            }

            var connection = listener.ConnectionQueue[0];
            listener.ConnectionQueue.RemoveAt(0);
            connection.Id = handle;
            connection.Blocking = !nonBlockingResult;
            connection.Options = listener.Options.Clone();
            _sockets.Add(handle, connection);
            _network.ApplyOptions(connection);
            _network.ResumeReceive(listener);
            _network.ResumeReceive(connection);
            listener.Events = listener.ComputeEvents();
            connection.RefreshConnectedStatus();
            peer = connection.RemoteAddress;
            return SocketCallResult.Ok(handle);
        }
    }

    public SocketCallResult Connect(int id, GuestEndpoint remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (remote.Family != socket.Family)
            {
                return SocketCallResult.Error(SocketErrno.EAFNOSUPPORT);
            }

            if (socket.Type == VirtualSocketType.Datagram)
            {
                socket.RemoteAddress = remote;
                return SocketCallResult.Ok();
            }

            switch (socket.Status)
            {
                case SocketStatus.Connecting:
                    return socket.Blocking ? SocketCallResult.Block : SocketCallResult.Error(SocketErrno.EALREADY);
                case SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving when socket.ConnectInProgress:
                    // The guest re-issues a blocking connect that has completed meanwhile (restartable call).
                    socket.ConnectInProgress = false;
                    return SocketCallResult.Ok();
                case SocketStatus.Disconnected when socket.ConnectInProgress:
                    socket.ConnectInProgress = false;
                    var failure = socket.PendingError;
                    socket.PendingError = 0;
                    socket.Events = socket.ComputeEvents();
                    return SocketCallResult.Error(failure == 0 ? SocketErrno.ECONNREFUSED : failure);
                case SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving or SocketStatus.Shutdown:
                    return SocketCallResult.Error(SocketErrno.EISCONN);
                case SocketStatus.Listening:
                    return SocketCallResult.Error(SocketErrno.EINVAL);
                case SocketStatus.Unconnected or SocketStatus.Bound:
                    break;
                default:
                    return SocketCallResult.Error(SocketErrno.EINVAL);
            }

            socket.RemoteAddress = remote;
            socket.Status = SocketStatus.Connecting;
            socket.ConnectInProgress = true;
            var error = _network.Connect(socket, remote.ToIPEndPoint());
            if (error != 0)
            {
                socket.Status = SocketStatus.Disconnected;
                socket.ConnectInProgress = false;
                socket.Events = socket.ComputeEvents();
                return SocketCallResult.Error(error);
            }

            socket.Events = socket.ComputeEvents();
            if (!socket.Blocking)
            {
                socket.ConnectInProgress = false;
                return SocketCallResult.Error(SocketErrno.EINPROGRESS);
            }

            return SocketCallResult.Block;
        }
    }

    public SocketCallResult Shutdown(int id, bool read, bool write)
    {
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (socket.Status is not (SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving or SocketStatus.Shutdown or SocketStatus.Disconnected))
            {
                return SocketCallResult.Error(SocketErrno.ENOTCONN);
            }

            socket.ReadShut |= read;
            if (read)
            {
                socket.ReceiveQueue.Clear();
                // The receive loop may be parked on a full queue; it must keep reading to see the peer's FIN or reset.
                _network.ResumeReceive(socket);
            }

            if (write && !socket.WriteShut)
            {
                socket.WriteShut = true;
                _network.Transmit(socket);
            }

            if (socket.Status != SocketStatus.Disconnected)
            {
                socket.Status = SocketStatus.Shutdown;
            }

            DisconnectIfBothClosed(socket);
            socket.Events = socket.ComputeEvents();
            return SocketCallResult.Ok();
        }
    }

    public SocketCallResult Close(int id)
    {
        lock (SyncRoot)
        {
            if (!_sockets.Remove(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            // The backend sees the socket as it was (listening, connected) to choose how to close it.
            _network.Close(socket);
            socket.Status = SocketStatus.Terminated;
            ClosePendingConnections(socket);
            return SocketCallResult.Ok();
        }
    }

    public SocketCallResult SetBlocking(int id, bool blocking)
    {
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            socket.Blocking = blocking;
            return SocketCallResult.Ok();
        }
    }

    public void Dispose()
    {
        lock (SyncRoot)
        {
            foreach (var socket in _sockets.Values)
            {
                _network.Close(socket);
                // Terminated makes a racing accept loop hand its new connection back instead of queueing it here.
                socket.Status = SocketStatus.Terminated;
                ClosePendingConnections(socket);
            }

            _sockets.Clear();
        }

        _network.Dispose();
    }

    /// <summary>Connections the guest never accepted have no handle: closing their listener is their only close, as on Linux.</summary>
    private void ClosePendingConnections(VirtualSocket listener)
    {
        foreach (var pending in listener.ConnectionQueue)
        {
            // Linux resets connections that were never accepted; a zero linger makes the backend do the same.
            pending.Options.LingerEnabled = true;
            pending.Options.LingerSeconds = 0;
            _network.Close(pending);
            pending.Status = SocketStatus.Terminated;
        }

        listener.ConnectionQueue.Clear();
    }

    /// <summary>The guest shut its write side, its output is gone and the peer closed too: nothing can flow either way.</summary>
    private static void DisconnectIfBothClosed(VirtualSocket socket)
    {
        if (socket.Status == SocketStatus.Shutdown && socket.WriteShut && socket.PeerClosed && socket.SendQueue.IsEmpty)
        {
            socket.Status = SocketStatus.Disconnected;
        }
    }

    private static int TakeError(VirtualSocket socket)
    {
        var error = socket.PendingError;
        socket.PendingError = 0;
        return error;
    }
}
