using System.Net;
using MessagePack;

namespace Migration.Core.Sockets;

/// <summary>Capture of the socket table for a checkpoint or a migration, and its restore into a fresh stack (DESIGN §4, plain backend).</summary>
public sealed partial class VirtualSocketStack
{
    /// <summary>The largest queue a restored socket may bring: the largest buffer size <c>SO_SNDBUF</c>/<c>SO_RCVBUF</c> accept.</summary>
    public const int MaxQueueCapacity = SocketOptions.MaxBufferSize;

    /// <summary>Deep copies of every socket, consistent with each other; host I/O after the call does not reach them. <see cref="VirtualSocket.Host"/> is not copied.</summary>
    public IReadOnlyList<VirtualSocket> CaptureTable()
    {
        lock (SyncRoot)
        {
            var copies = new List<VirtualSocket>(_sockets.Count);
            foreach (var socket in _sockets.Values)
            {
                copies.Add(DeepCopy(socket));
            }

            return copies;
        }
    }

    /// <summary>
    /// Puts a captured table into this stack, which must be empty, and gives every socket that needs one a host endpoint
    /// again. Handles, options, addresses and queues are kept; connections whose host sockets are gone are reset. The
    /// table is checked first (<see cref="SocketTableException"/>) and copied, so the caller's records stay its own.
    /// On any failure the stack is left empty and every host endpoint this call opened is closed again.
    /// </summary>
    /// <returns>One entry per socket that got a host endpoint, in table order; each is also raised as <see cref="Bound"/>.</returns>
    public IReadOnlyList<SocketRebinding> RestoreTable(IReadOnlyList<VirtualSocket> sockets)
    {
        ArgumentNullException.ThrowIfNull(sockets);
        var rebindings = new List<(VirtualSocket Socket, SocketRebinding Rebinding)>();
        lock (SyncRoot)
        {
            if (_sockets.Count != 0)
            {
                throw new InvalidOperationException($"a socket table is restored only into an empty stack; this one holds {_sockets.Count} sockets");
            }

            SocketTableValidator.Validate(sockets, MaxSockets, MaxQueueCapacity);
            var restored = sockets.Select(DeepCopy).ToList();
            try
            {
                foreach (var socket in restored)
                {
                    if (RestoreSocket(socket) is { } rebinding)
                    {
                        rebindings.Add((socket, rebinding));
                    }
                }
            }
            catch
            {
                foreach (var queued in _prepared.Where(p => p.Id < 0 && p.Host is not null))
                {
                    // Pending connections are not in the table; closing one still in repair mode sends nothing.
                    _network.Close(queued);
                }

                _prepared.Clear();
                _toUnlock.Clear();
                // Every record with a host endpoint, not just the finished ones: a backend that threw may have left one half set up.
                foreach (var socket in restored.Where(s => s.Host is not null))
                {
                    _network.Close(socket);
                    // Terminated makes a racing accept or receive loop let go of the record instead of feeding it.
                    socket.Status = SocketStatus.Terminated;
                }

                throw;
            }

            foreach (var socket in restored)
            {
                _sockets.Add(socket.Id, socket);
            }
        }

        foreach (var (socket, rebinding) in rebindings)
        {
            Bound?.Invoke(socket, rebinding.Current);
        }

        return [.. rebindings.Select(r => r.Rebinding)];
    }

    /// <summary>A MessagePack round trip: the contract that defines what a socket is, so nothing captured can be missed or shared.</summary>
    private static VirtualSocket DeepCopy(VirtualSocket socket) =>
        MessagePackSerializer.Deserialize<VirtualSocket>(MessagePackSerializer.Serialize(socket));

    /// <summary>Applies the plain backend's semantics to one restored record; returns its rebinding when it got a host endpoint.</summary>
    private SocketRebinding? RestoreSocket(VirtualSocket socket)
    {
        var previous = socket.HostEndpoint is { } text && IPEndPoint.TryParse(text, out var parsed) ? parsed : null;
        socket.Host = null;
        // The field names what carries the socket now; a socket left without a host endpoint must not claim the old one.
        socket.HostEndpoint = null;
        SocketRebinding? rebinding = null;
        switch (socket.Status)
        {
            case SocketStatus.Listening:
                // Each pending connection was a host socket accepted on the old host. Without TCP repair the host sockets
                // did not survive: the client's TCP peer is gone, so a queued record would hand the guest a connection
                // that can only fail. Dropping them is what the client already saw — its connection died with the old host.
                // With repair, those that were frozen come back like any other connection.
                socket.ConnectionQueue.RemoveAll(connection => !TryPrepare(connection));
                rebinding = Rebind(socket, previous, listen: true);
                if (previous is not null && _network.PreservesConnections)
                {
                    _toUnlock.Add(previous);
                }

                break;
            case SocketStatus.Bound:
                rebinding = Rebind(socket, previous, listen: false);
                break;
            case SocketStatus.Connecting:
                // As OnConnectFailed: the attempt left from a host socket that no longer exists. A blocking connect
                // the guest re-issues (ConnectInProgress) collects the error; a non-blocking one finds it in SO_ERROR.
                socket.Status = SocketStatus.Disconnected;
                socket.PendingError = SocketErrno.ECONNREFUSED;
                socket.SendQueue.Clear();
                break;
            case SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving or SocketStatus.Shutdown when TryPrepare(socket):
                // Re-created in repair mode: it goes live when the machine starts (ActivateRestoredConnections).
                break;
            case SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving or SocketStatus.Shutdown:
                // As OnReset, so the guest sees exactly a live reset: unread input stays readable, then ECONNRESET once;
                // sends fail; poll reports hang-up and error. Unsent output had no peer left to go to.
                socket.Connection = null;
                socket.RelayConnection = null;
                socket.Reset = true;
                socket.PendingError = SocketErrno.ECONNRESET;
                socket.SendQueue.Clear();
                socket.Status = SocketStatus.Disconnected;
                break;
            default:
                // Unconnected and Disconnected sockets have no host endpoint to lose.
                break;
        }

        socket.Events = socket.ComputeEvents();
        return rebinding;
    }

    /// <summary>
    /// Binds (and listens) on the host endpoint the guest's address resolves to, keeping the previous host port where the
    /// port map leaves the choice to the host; on any failure, once more on a port the host picks. Throws when both fail,
    /// leaving the socket without a host endpoint.
    /// </summary>
    private SocketRebinding Rebind(VirtualSocket socket, IPEndPoint? previous, bool listen)
    {
        var guest = socket.LocalAddress!;
        var target = WasImplicitlyBound(socket, guest, previous)
            ? new IPEndPoint(guest.Family == VirtualAddressFamily.IPv4 ? IPAddress.Any : IPAddress.IPv6Any, guest.Port)
            : _ports.Resolve(guest);
        var anyPort = new IPEndPoint(target.Address, 0);
        var first = target.Port != 0 ? target
            : previous is { Port: > 0 } ? new IPEndPoint(target.Address, previous.Port)
            : anyPort;
        IPEndPoint[] candidates = first.Port == 0 ? [anyPort] : [first, anyPort];

        var error = 0;
        foreach (var host in candidates)
        {
            error = BindHost(socket, host, listen);
            if (error == 0)
            {
                var current = socket.HostEndpoint is { } text && IPEndPoint.TryParse(text, out var actual) ? actual : host;
                return new SocketRebinding(socket.Id, socket.Protocol, guest, previous, current);
            }
        }

        throw new SocketRebindException(socket.Id, socket.Protocol, guest, candidates[^1], error);
    }

    /// <summary>
    /// A UDP socket that got its port from its first send was bound on the wildcard, not through the port map (see
    /// SendDatagramLocked), so that it can reach any destination; the restored one must be able to as well.
    /// </summary>
    private bool WasImplicitlyBound(VirtualSocket socket, GuestEndpoint guest, IPEndPoint? previous) =>
        socket.Type == VirtualSocketType.Datagram
        && guest.IsAny
        && previous is not null
        && (previous.Address.Equals(IPAddress.Any) || previous.Address.Equals(IPAddress.IPv6Any))
        && !_ports.Entries.ContainsKey(guest.Port);

    private int BindHost(VirtualSocket socket, IPEndPoint host, bool listen)
    {
        var error = _network.Bind(socket, host);
        if (error != 0 || !listen)
        {
            return error;
        }

        // The record is already Listening, which the backend's accept loop checks (AcceptRoom) before it accepts.
        error = _network.Listen(socket, socket.Backlog);
        if (error != 0)
        {
            _network.Close(socket);
            socket.Host = null;
            socket.HostEndpoint = null;
        }

        return error;
    }
}
