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

    /// <summary>Fires (outside the lock) whenever host I/O changed a socket, so a blocked guest call can be issued again.</summary>
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

    public SocketCallResult Send(int id, ReadOnlySpan<byte> data)
    {
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (socket.Type == VirtualSocketType.Datagram)
            {
                return socket.RemoteAddress is { } to ? SendDatagramLocked(socket, to, data) : SocketCallResult.Error(SocketErrno.EDESTADDRREQ);
            }

            if (socket.Reset)
            {
                return SocketCallResult.Error(socket.PendingError == SocketErrno.ECONNRESET ? TakeError(socket) : SocketErrno.EPIPE);
            }

            if (socket.WriteShut)
            {
                return SocketCallResult.Error(SocketErrno.EPIPE);
            }

            if (socket.Status is not (SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving or SocketStatus.Shutdown))
            {
                return socket.Status == SocketStatus.Connecting && socket.Blocking ? SocketCallResult.Block : SocketCallResult.Error(SocketErrno.ENOTCONN);
            }

            if (data.Length == 0)
            {
                return SocketCallResult.Ok();
            }

            var accepted = socket.SendQueue.Enqueue(data);
            if (accepted == 0)
            {
                return socket.Blocking ? SocketCallResult.Block : SocketCallResult.Error(SocketErrno.EAGAIN);
            }

            socket.RefreshConnectedStatus();
            _network.Transmit(socket);
            return SocketCallResult.Ok(accepted);
        }
    }

    public SocketCallResult Receive(int id, Span<byte> destination, bool peek)
    {
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (socket.Type == VirtualSocketType.Datagram)
            {
                return ReceiveDatagramLocked(socket, destination, peek, out _);
            }

            if (!socket.ReceiveQueue.IsEmpty && destination.Length > 0)
            {
                var n = peek ? socket.ReceiveQueue.Peek(destination) : socket.ReceiveQueue.Dequeue(destination);
                socket.RefreshConnectedStatus();
                if (!peek)
                {
                    _network.ResumeReceive(socket);
                }

                return SocketCallResult.Ok(n);
            }

            if (socket.Reset)
            {
                return socket.PendingError != 0 ? SocketCallResult.Error(TakeError(socket)) : SocketCallResult.Ok(0);
            }

            if (socket.PeerClosed || socket.ReadShut || destination.Length == 0)
            {
                return SocketCallResult.Ok(0);
            }

            if (socket.Status is SocketStatus.Unconnected or SocketStatus.Bound or SocketStatus.Listening or SocketStatus.Disconnected)
            {
                return SocketCallResult.Error(SocketErrno.ENOTCONN);
            }

            return socket.Blocking ? SocketCallResult.Block : SocketCallResult.Error(SocketErrno.EAGAIN);
        }
    }

    public SocketCallResult SendTo(int id, ReadOnlySpan<byte> data, GuestEndpoint? to)
    {
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (socket.Type != VirtualSocketType.Datagram || to is null)
            {
                return to is null ? SocketCallResult.Error(SocketErrno.EDESTADDRREQ) : SocketCallResult.Error(SocketErrno.EISCONN);
            }

            return SendDatagramLocked(socket, to, data);
        }
    }

    public SocketCallResult ReceiveFrom(int id, Span<byte> destination, bool peek, out GuestEndpoint? from)
    {
        from = null;
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (socket.Type != VirtualSocketType.Datagram)
            {
                from = socket.RemoteAddress;
                return Receive(id, destination, peek);
            }

            return ReceiveDatagramLocked(socket, destination, peek, out from);
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

            socket.Status = SocketStatus.Terminated;
            _network.Close(socket);
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

    public SocketCallResult GetName(int id, bool peer, out GuestEndpoint? endpoint)
    {
        endpoint = null;
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            endpoint = peer ? socket.RemoteAddress : socket.LocalAddress ?? Unspecified(socket.Family);
            return endpoint is null ? SocketCallResult.Error(SocketErrno.ENOTCONN) : SocketCallResult.Ok();
        }
    }

    /// <summary>Reads an option as Linux reports it; see <see cref="SocketOptionNames"/>.</summary>
    public SocketCallResult GetOption(int id, int level, int name, out int value, out int second)
    {
        value = 0;
        second = 0;
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            var o = socket.Options;
            switch ((level, name))
            {
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoReuseAddr): value = o.ReuseAddress ? 1 : 0; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoType): value = (int)socket.Type; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoError):
                    value = TakeError(socket);
                    socket.Events = socket.ComputeEvents();
                    break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoSndBuf): value = o.SendBufferSize; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoRcvBuf): value = o.ReceiveBufferSize; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoKeepAlive): value = o.KeepAlive ? 1 : 0; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoLinger):
                    value = o.LingerEnabled ? 1 : 0;
                    second = o.LingerSeconds;
                    break;
                case (SocketOptionNames.IpProtoTcp, SocketOptionNames.TcpNoDelay): value = o.NoDelay ? 1 : 0; break;
                default: return SocketCallResult.Error(SocketErrno.ENOPROTOOPT);
            }

            return SocketCallResult.Ok();
        }
    }

    public SocketCallResult SetOption(int id, int level, int name, int value, int second)
    {
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            var o = socket.Options;
            switch ((level, name))
            {
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoReuseAddr): o.ReuseAddress = value != 0; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoKeepAlive): o.KeepAlive = value != 0; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoSndBuf): o.SendBufferSize = Math.Clamp(value, 4096, 4 << 20); break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoRcvBuf): o.ReceiveBufferSize = Math.Clamp(value, 4096, 4 << 20); break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoLinger):
                    o.LingerEnabled = value != 0;
                    o.LingerSeconds = Math.Max(0, second);
                    break;
                case (SocketOptionNames.IpProtoTcp, SocketOptionNames.TcpNoDelay): o.NoDelay = value != 0; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoType or SocketOptionNames.SoError): return SocketCallResult.Error(SocketErrno.ENOPROTOOPT);
                default: return SocketCallResult.Error(SocketErrno.ENOPROTOOPT);
            }

            _network.ApplyOptions(socket);
            return SocketCallResult.Ok();
        }
    }

    /// <summary>The events of each handle (Invalid for an unknown one), masked as poll reports them: errors and hang-ups always.</summary>
    public int Poll(ReadOnlySpan<int> ids, ReadOnlySpan<SocketEvents> interest, Span<SocketEvents> result)
    {
        var ready = 0;
        lock (SyncRoot)
        {
            for (var i = 0; i < ids.Length; i++)
            {
                if (ids[i] < 0)
                {
                    result[i] = SocketEvents.None;
                    continue;
                }

                var events = _sockets.TryGetValue(ids[i], out var socket) ? socket.ComputeEvents() : SocketEvents.Invalid;
                result[i] = events & (interest[i] | SocketEvents.Error | SocketEvents.HangUp | SocketEvents.Invalid);
                if (result[i] != SocketEvents.None)
                {
                    ready++;
                }
            }
        }

        return ready;
    }

    public void Dispose()
    {
        lock (SyncRoot)
        {
            foreach (var socket in _sockets.Values)
            {
                _network.Close(socket);
                ClosePendingConnections(socket);
            }

            _sockets.Clear();
        }

        _network.Dispose();
    }

    private SocketCallResult SendDatagramLocked(VirtualSocket socket, GuestEndpoint to, ReadOnlySpan<byte> data)
    {
        if (to.Family != socket.Family)
        {
            return SocketCallResult.Error(SocketErrno.EAFNOSUPPORT);
        }

        if (socket.LocalAddress is null)
        {
            // An unbound UDP socket gets an ephemeral port on its first send, as on Linux.
            var any = new GuestEndpoint(new byte[socket.Family == VirtualAddressFamily.IPv4 ? 4 : 16], 0);
            var bindError = _network.Bind(socket, _ports.Resolve(any));
            if (bindError != 0)
            {
                return SocketCallResult.Error(bindError);
            }

            socket.LocalAddress = socket.HostEndpoint is { } h && IPEndPoint.TryParse(h, out var actual) ? new GuestEndpoint(any.Address, actual.Port) : any;
            socket.Status = SocketStatus.Bound;
        }

        var error = _network.SendDatagram(socket, to.ToIPEndPoint(), data);
        return error == 0 ? SocketCallResult.Ok(data.Length) : SocketCallResult.Error(error);
    }

    private SocketCallResult ReceiveDatagramLocked(VirtualSocket socket, Span<byte> destination, bool peek, out GuestEndpoint? from)
    {
        from = null;
        if (socket.DatagramQueue.Count == 0)
        {
            return socket.Blocking ? SocketCallResult.Block : SocketCallResult.Error(SocketErrno.EAGAIN);
        }

        var datagram = socket.DatagramQueue[0];
        if (!peek)
        {
            socket.DatagramQueue.RemoveAt(0);
            _network.ResumeReceive(socket);
        }

        from = datagram.From;
        var n = Math.Min(destination.Length, datagram.Payload.Length);
        datagram.Payload.AsSpan(0, n).CopyTo(destination);
        socket.Events = socket.ComputeEvents();
        return SocketCallResult.Ok(n);
    }

    /// <summary>Connections the guest never accepted have no handle: closing their listener is their only close, as on Linux.</summary>
    private void ClosePendingConnections(VirtualSocket listener)
    {
        foreach (var pending in listener.ConnectionQueue)
        {
            pending.Status = SocketStatus.Terminated;
            _network.Close(pending);
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

    private static GuestEndpoint Unspecified(VirtualAddressFamily family) =>
        new(new byte[family == VirtualAddressFamily.IPv4 ? 4 : 16], 0);

    private int FreeHandle()
    {
        if (_sockets.Count >= MaxSockets)
        {
            return -1;
        }

        // Lowest free handle, as POSIX does for descriptors; handles are few, so a scan is cheap.
        var candidate = 0;
        foreach (var id in _sockets.Keys)
        {
            if (id != candidate)
            {
                break;
            }

            candidate++;
        }

        return candidate;
    }
}
