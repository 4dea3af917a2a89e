using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;
using Migration.Networking.Plain;

namespace Migration.Networking.Repair;

/// <summary>
/// The TCP repair backend (DESIGN §4): host sockets are driven exactly as in the plain backend while the VM runs; at a
/// migration's switch-over every established connection is frozen with TCP repair and its kernel state rides in the
/// socket table, and the destination re-creates it bound to the same addresses, so the peer — an unmodified client —
/// sees a pause, never a reset. While no socket owns a connection, a <see cref="NetworkLock"/> drops the peer's
/// segments (when hosts share one network stack; hosts in separate namespaces move the address instead and pass none).
/// </summary>
public sealed class RepairHostNetwork : IHostNetwork
{
    private static readonly TimeSpan LoopStopLimit = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan QuietFor = TimeSpan.FromMicroseconds(500);
    private static readonly TimeSpan QuiesceLimit = TimeSpan.FromMilliseconds(5);

    private readonly PlainHostNetwork _plain;
    private readonly NetworkLock? _lock;
    private readonly ServiceAddress? _serviceAddress;
    private VirtualSocketStack? _stack;

    /// <param name="networkLock">Shared by the hosts of one network stack; null when the hosts have stacks of their own.</param>
    public RepairHostNetwork(NetworkLock? networkLock)
    {
        _plain = new PlainHostNetwork();
        _lock = networkLock;
    }

    /// <summary>For hosts with network stacks of their own: the VM's address moves with it instead of a lock (see <see cref="ServiceAddress"/>).</summary>
    public RepairHostNetwork(ServiceAddress serviceAddress)
    {
        ArgumentNullException.ThrowIfNull(serviceAddress);
        // Listeners and connections are bound on the destination before the address arrives there.
        _plain = new PlainHostNetwork { FreeBind = true };
        _serviceAddress = serviceAddress;
    }

    public bool PreservesConnections => true;

    private VirtualSocketStack Stack => _stack ?? throw new InvalidOperationException("the backend is not attached to a socket stack");

    public void Attach(VirtualSocketStack stack)
    {
        _stack = stack;
        _plain.Attach(stack);
    }

    public int Bind(VirtualSocket socket, IPEndPoint host) => _plain.Bind(socket, host);

    public int Listen(VirtualSocket socket, int backlog) => _plain.Listen(socket, backlog);

    public int Connect(VirtualSocket socket, IPEndPoint remote) => _plain.Connect(socket, remote);

    public void Transmit(VirtualSocket socket) => _plain.Transmit(socket);

    public void ResumeReceive(VirtualSocket socket) => _plain.ResumeReceive(socket);

    public int SendDatagram(VirtualSocket socket, IPEndPoint to, ReadOnlySpan<byte> payload) => _plain.SendDatagram(socket, to, payload);

    public void ApplyOptions(VirtualSocket socket) => _plain.ApplyOptions(socket);

    public void Close(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Host is PreparedConnection prepared)
        {
            // Still in repair mode: closing sends nothing, and the connection's state stays in the record.
            prepared.Dispose();
            socket.Host = null;
            return;
        }

        _plain.Close(socket);
    }

    public void Dispose()
    {
        _plain.Dispose();
        if (_serviceAddress is { Held: true })
        {
            try
            {
                _serviceAddress.Release();
            }
            catch (ServiceAddressException)
            {
                // Disposal cannot report; the address stays on an interface of a namespace the VM no longer runs in.
            }
        }
    }

    public async Task<IReadOnlyList<VirtualSocket>> FreezeAsync(IReadOnlyList<VirtualSocket> sockets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sockets);
        var stack = Stack;
        var listeners = new List<(VirtualSocket Socket, PlainEndpoint Endpoint)>();
        var connections = new List<(VirtualSocket Socket, PlainEndpoint Endpoint)>();
        lock (stack.SyncRoot)
        {
            foreach (var socket in sockets)
            {
                if (socket.Host is not PlainEndpoint endpoint || socket.Type != VirtualSocketType.Stream || socket.Reset)
                {
                    continue;
                }

                if (socket.Status == SocketStatus.Listening)
                {
                    listeners.Add((socket, endpoint));
                }
                else if (socket.Status is SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving or SocketStatus.Shutdown)
                {
                    connections.Add((socket, endpoint));
                }
            }
        }

        await QuiesceAsync(connections.Select(c => c.Endpoint).ToList()).ConfigureAwait(false);

        // Lock first: from the moment a socket lets go, a segment from its peer must find nothing that answers.
        _lock?.Lock(listeners.Concat(connections).Select(c => (IPEndPoint)c.Endpoint.Socket.LocalEndPoint!));
        // Or the address leaves this host first: its peers' segments are then dropped here as not ours, never reset.
        _serviceAddress?.Release();

        foreach (var (_, endpoint) in listeners.Concat(connections))
        {
            endpoint.Frozen = true;
            await endpoint.Receiving.CancelAsync().ConfigureAwait(false);
        }

        await WaitAsync(listeners.Concat(connections).Select(c => c.Endpoint.ReceiveLoop), "receive", cancellationToken).ConfigureAwait(false);

        // Pending clients become connections of the guest before the listener lets go of its port.
        lock (stack.SyncRoot)
        {
            foreach (var (listener, endpoint) in listeners)
            {
                foreach (var accepted in _plain.DrainAcceptQueue(listener))
                {
                    var acceptedEndpoint = (PlainEndpoint)accepted.Host!;
                    acceptedEndpoint.Frozen = true;
                    connections.Add((accepted, acceptedEndpoint));
                }

                endpoint.Dispose();
                listener.Host = null;
            }
        }

        var lost = new List<VirtualSocket>();
        foreach (var (socket, endpoint) in connections)
        {
            // A send the pump has in flight fails from here on without moving a byte.
            try
            {
                TcpRepair.EnterRepair((int)endpoint.Socket.Handle, endpoint.Socket.LocalEndPoint?.ToString() ?? "a connection");
            }
            catch (TcpRepairException)
            {
                lost.Add(socket);
            }
        }

        // A pump can be parked in a send that waits for a peer that does not read: cancel it. Whatever part of it the
        // kernel took is found by the reconciliation in Freeze.
        foreach (var (_, endpoint) in connections)
        {
            await endpoint.Sending.CancelAsync().ConfigureAwait(false);
        }

        await WaitAsync(connections.Select(c => c.Endpoint.PumpLoop), "send", cancellationToken).ConfigureAwait(false);

        var frozen = new List<VirtualSocket>(listeners.Select(l => l.Socket));
        lock (stack.SyncRoot)
        {
            foreach (var (socket, endpoint) in connections)
            {
                try
                {
                    if (lost.Contains(socket))
                    {
                        throw new TcpRepairException("repair mode was refused");
                    }

                    socket.Connection = Freeze(socket, endpoint);
                    frozen.Add(socket);
                }
                catch (TcpRepairException)
                {
                    // A connection that cannot be carried is reset for the guest, honestly, rather than left without loops.
                    stack.OnReset(socket, SocketErrno.ECONNRESET);
                }

                endpoint.Dispose();
                socket.Host = null;
            }
        }

        return frozen;
    }

    /// <summary>
    /// Waits (briefly, bounded) until the replies the guest wrote before its pause have left and no client byte has
    /// arrived for a moment. A request-reply client answers a reply within microseconds; a request that arrives before
    /// the lock travels in the receive queue, one that arrives after is dropped and waits for the client's
    /// retransmission timeout (200 ms at least) — which would be the pause that client sees.
    /// </summary>
    private static async Task QuiesceAsync(List<PlainEndpoint> endpoints)
    {
        if (endpoints.Count == 0)
        {
            return;
        }

        var quiet = Stopwatch.Frequency * QuietFor.Ticks / TimeSpan.TicksPerSecond;
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < QuiesceLimit)
        {
            var now = Stopwatch.GetTimestamp();
            if (!endpoints.Any(e => e.Pumping || now - e.LastReceived < quiet))
            {
                return;
            }

            // Sub-millisecond steps: a timer would round every wait up to a millisecond or more.
            await Task.Yield();
            Thread.Yield();
        }
    }

    private static TcpConnectionState Freeze(VirtualSocket socket, PlainEndpoint endpoint)
    {
        var result = TcpRepair.Read((int)endpoint.Socket.Handle, (IPEndPoint)endpoint.Socket.LocalEndPoint!, (IPEndPoint)endpoint.Socket.RemoteEndPoint!);
        var state = result.State;
        // An interrupted send may have put bytes in the kernel that the pump never counted: they are in the kernel's
        // queue now, so they leave what is still to send, or the peer would get them twice. They come from the tail a
        // restore left unsent first, then from the guest's send queue.
        var uncounted = result.KernelAccepted - endpoint.KernelAccepted;
        var tail = endpoint.PendingTail;
        if (uncounted < 0 || uncounted > tail.Length + socket.SendQueue.Count)
        {
            throw new TcpRepairException($"TCP repair of {state.Local} <-> {state.Remote}: the kernel took {result.KernelAccepted} bytes, the host counted {endpoint.KernelAccepted} with {tail.Length + socket.SendQueue.Count} still to send");
        }

        var fromTail = (int)Math.Min(uncounted, tail.Length);
        tail = tail[fromTail..];
        socket.SendQueue.Discard((int)(uncounted - fromTail));
        if (!tail.IsEmpty)
        {
            // The unsent tail of an earlier restore is still ahead of the guest's queue: it travels as never-sent bytes.
            // SendSequence marks the end of the queue, so it moves with it.
            state.SendQueue = [.. state.SendQueue, .. tail.Span];
            state.UnsentBytes += tail.Length;
            state.SendSequence += (uint)tail.Length;
            endpoint.PendingTail = ReadOnlyMemory<byte>.Empty;
        }

        return state;
    }

    public int PrepareConnection(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var state = socket.Connection ?? throw new ArgumentException("the socket carries no frozen connection", nameof(socket));
        try
        {
            socket.Host = new PreparedConnection(TcpRepair.Prepare(state, freeBind: _serviceAddress is not null));
            socket.HostEndpoint = state.Local;
            return 0;
        }
        catch (TcpRepairException e)
        {
            return e.Errno != 0 ? e.Errno : SocketErrno.EINVAL;
        }
    }

    public void ActivateConnections(IReadOnlyList<VirtualSocket> sockets, IReadOnlyList<IPEndPoint> unlock)
    {
        ArgumentNullException.ThrowIfNull(sockets);
        ArgumentNullException.ThrowIfNull(unlock);
        // The lock goes before repair mode ends: leaving it sends a window probe, and the peer's answer must get through.
        try
        {
            _lock?.Unlock(unlock);
        }
        catch (NetworkLockException)
        {
            // The entries expire by themselves; the guest must start regardless, its peers merely wait a little longer.
        }

        try
        {
            _serviceAddress?.Claim();
        }
        catch (ServiceAddressException)
        {
            // As with the lock, the guest starts regardless; a failed announcement only delays its peers until their neighbour entry goes stale.
        }

        foreach (var socket in sockets)
        {
            if (socket.Host is not PreparedConnection prepared || socket.Connection is not { } state)
            {
                continue;
            }

            var fd = prepared.Take();
            Socket hostSocket;
            try
            {
                TcpRepair.Release(fd, state);
                hostSocket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            }
            catch (TcpRepairException)
            {
                LinuxSockets.Close(fd);
                socket.Host = null;
                Stack.OnReset(socket, SocketErrno.ECONNRESET);
                continue;
            }

            var endpoint = new PlainEndpoint(hostSocket)
            {
                KernelAccepted = state.SendQueue.Length - state.UnsentBytes,
                PendingTail = state.SendQueue.AsMemory(state.SentBytes),
                EndOfStreamAfter = state.FinReceived ? state.ReceiveQueue.Length : null,
                FinSent = state.FinSent && state.UnsentBytes == 0,
            };
            _plain.Adopt(socket, endpoint);
        }
    }

    private static async Task WaitAsync(IEnumerable<Task> loops, string what, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(loops).WaitAsync(LoopStopLimit, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new TcpRepairException($"the host's {what} loops did not stop within {LoopStopLimit.TotalSeconds:0} s of the freeze", e);
        }
    }
}
