using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;

namespace Migration.Networking.Plain;

/// <summary>
/// The plain backend (DESIGN §4): each virtual socket is backed by a host socket driven by async loops on the
/// thread pool — an accept loop per listener, a receive loop and an on-demand send pump per connection — so
/// there is no thread per socket. Loops read from the host only while the virtual queue has room, which turns
/// a slow guest into TCP back-pressure on the client instead of buffering without bound.
/// </summary>
public sealed class PlainHostNetwork : IHostNetwork
{
    private const int BufferSize = 64 * 1024;

    /// <summary>How long a closed socket may keep flushing queued output to a peer that does not read.</summary>
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan DatagramRetryDelay = TimeSpan.FromMilliseconds(1);

    // .NET knows no name for it: set raw, at its Linux level and number.
    private const int IpProtoIp = 0;
    private const int IpFreeBind = 15;

    private VirtualSocketStack? _stack;

    private VirtualSocketStack Stack => _stack ?? throw new InvalidOperationException("the backend is not attached to a socket stack");

    /// <summary>Binds with IP_FREEBIND: an address not (yet) on this host is accepted, for a service address that arrives later.</summary>
    public bool FreeBind { get; init; }

    public void Attach(VirtualSocketStack stack) => _stack = stack;

    public int Bind(VirtualSocket socket, IPEndPoint host)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(host);
        Socket? hostSocket = null;
        try
        {
            // Creation can fail too (no IPv6 on this host): that is an errno for the guest, not a host exception.
            hostSocket = socket.Type == VirtualSocketType.Stream
                ? new Socket(host.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
                : new Socket(host.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            // Options that matter for bind (reuse-address) must be on the socket before it binds.
            Apply(socket.Options, hostSocket, socket.Type);
            if (FreeBind && host.AddressFamily == AddressFamily.InterNetwork)
            {
                hostSocket.SetRawSocketOption(IpProtoIp, IpFreeBind, BitConverter.GetBytes(1));
            }

            hostSocket.Bind(host);
        }
        catch (SocketException e)
        {
            hostSocket?.Dispose();
            return SocketErrorMapping.ToErrno(e);
        }

        var endpoint = new PlainEndpoint(hostSocket);
        socket.Host = endpoint;
        socket.HostEndpoint = hostSocket.LocalEndPoint?.ToString();
        if (socket.Type == VirtualSocketType.Datagram)
        {
            endpoint.ReceiveLoop = ReceiveDatagramsAsync(socket, endpoint);
        }

        return 0;
    }

    public int Listen(VirtualSocket socket, int backlog)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Host is not PlainEndpoint endpoint)
        {
            return SocketErrno.EINVAL;
        }

        try
        {
            endpoint.Socket.Listen(backlog);
        }
        catch (SocketException e)
        {
            return SocketErrorMapping.ToErrno(e);
        }

        endpoint.ReceiveLoop = AcceptAsync(socket, endpoint);
        return 0;
    }

    public int Connect(VirtualSocket socket, IPEndPoint remote)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(remote);
        if (socket.Host is not PlainEndpoint endpoint)
        {
            try
            {
                endpoint = new PlainEndpoint(new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
            }
            catch (SocketException e)
            {
                return SocketErrorMapping.ToErrno(e);
            }

            socket.Host = endpoint;
            Apply(socket.Options, endpoint.Socket, socket.Type);
        }

        // The kernel counts the SYN of an active open among the bytes acknowledged.
        endpoint.KernelAccepted = 1;

        _ = ConnectAsync(socket, endpoint, remote);
        return 0;
    }

    public void Transmit(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Host is PlainEndpoint endpoint && !endpoint.Pumping && socket.Status != SocketStatus.Connecting)
        {
            endpoint.Pumping = true;
            endpoint.PumpLoop = PumpAsync(socket, endpoint);
        }
    }

    public void ResumeReceive(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        (socket.Host as PlainEndpoint)?.Room.Set();
    }

    public int SendDatagram(VirtualSocket socket, IPEndPoint to, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Host is not PlainEndpoint endpoint)
        {
            return SocketErrno.EINVAL;
        }

        try
        {
            endpoint.Socket.SendTo(payload, SocketFlags.None, to);
            return 0;
        }
        catch (SocketException e)
        {
            return SocketErrorMapping.ToErrno(e);
        }
    }

    public void ApplyOptions(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Host is PlainEndpoint endpoint)
        {
            Apply(socket.Options, endpoint.Socket, socket.Type);
        }
    }

    public void Close(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Host is not PlainEndpoint endpoint)
        {
            return;
        }

        endpoint.Receiving.Cancel();
        endpoint.Room.Set();
        var abortive = socket.Options.LingerEnabled && socket.Options.LingerSeconds == 0;
        // Only an established connection has output to flush and a FIN to send; a socket that never connected (bound,
        // connecting, failed) would make the pump's shutdown fail and report a reset on a record already being closed.
        var established = socket.Status is SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving or SocketStatus.Shutdown;
        if (abortive || socket.Type != VirtualSocketType.Stream || !established || socket.Reset)
        {
            if (abortive)
            {
                TrySetLinger(endpoint.Socket);
            }

            endpoint.Dispose();
            return;
        }

        // Like close(2): queued output still goes out, then FIN; the pump disposes the endpoint when done.
        endpoint.CloseRequested = true;
        endpoint.Sending.CancelAfter(CloseGrace);
        if (!endpoint.Pumping)
        {
            endpoint.Pumping = true;
            endpoint.PumpLoop = PumpAsync(socket, endpoint);
        }
    }

    public void Dispose()
    {
    }

    private async Task AcceptAsync(VirtualSocket listener, PlainEndpoint endpoint)
    {
        var stack = Stack;
        var token = endpoint.Receiving.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                while (stack.AcceptRoom(listener) == 0)
                {
                    await endpoint.Room.WaitAsync(token).ConfigureAwait(false);
                }

                Socket hostConnection;
                try
                {
                    hostConnection = await endpoint.Socket.AcceptAsync(token).ConfigureAwait(false);
                }
                catch (SocketException) when (!token.IsCancellationRequested && endpoint.Socket.IsBound)
                {
                    // Out of host descriptors or a connection aborted in the queue: the listener itself is fine.
                    await Task.Delay(AcceptRetryDelay, token).ConfigureAwait(false);
                    continue;
                }

                if (Admit(stack, listener, hostConnection) is not var (connection, connectionEndpoint))
                {
                    return;
                }

                // Bytes that arrive before the guest accepts wait in the new socket's receive queue.
                connectionEndpoint.ReceiveLoop = ReceiveAsync(connection, connectionEndpoint);
            }
        }
        catch (Exception e) when (IsTeardown(e))
        {
        }
        catch (SocketException)
        {
            // The listener was closed under the loop; the guest already knows, since it closed it.
        }
    }

    /// <summary>
    /// Takes connections still waiting in a listener's host accept queue into its virtual connection queue (while there is
    /// room), without loops: a freeze stops the accept loop first, then drains the kernel so no pending client is lost.
    /// </summary>
    internal List<VirtualSocket> DrainAcceptQueue(VirtualSocket listener)
    {
        var drained = new List<VirtualSocket>();
        if (listener.Host is not PlainEndpoint endpoint)
        {
            return drained;
        }

        endpoint.Socket.Blocking = false;
        while (Stack.AcceptRoom(listener) > 0)
        {
            Socket hostConnection;
            try
            {
                hostConnection = endpoint.Socket.Accept();
            }
            catch (SocketException)
            {
                break;
            }

            if (Admit(Stack, listener, hostConnection) is not var (connection, _))
            {
                break;
            }

            drained.Add(connection);
        }

        return drained;
    }

    /// <summary>Gives a connection re-created on this host (TCP repair) its loops: receiving now, sending whatever it had queued.</summary>
    internal void Adopt(VirtualSocket socket, PlainEndpoint endpoint)
    {
        socket.Host = endpoint;
        socket.HostEndpoint = endpoint.Socket.LocalEndPoint?.ToString();
        Apply(socket.Options, endpoint.Socket, VirtualSocketType.Stream);
        endpoint.ReceiveLoop = ReceiveAsync(socket, endpoint);
        if (!endpoint.PendingTail.IsEmpty || !socket.SendQueue.IsEmpty || (socket.WriteShut && !endpoint.FinSent))
        {
            endpoint.Pumping = true;
            endpoint.PumpLoop = PumpAsync(socket, endpoint);
        }
    }

    private static (VirtualSocket Connection, PlainEndpoint Endpoint)? Admit(VirtualSocketStack stack, VirtualSocket listener, Socket hostConnection)
    {
        var connectionEndpoint = new PlainEndpoint(hostConnection);
        var connection = new VirtualSocket
        {
            Host = connectionEndpoint,
            HostEndpoint = hostConnection.LocalEndPoint?.ToString(),
            Options = listener.Options.Clone(),
        };
        Apply(connection.Options, hostConnection, VirtualSocketType.Stream);
        if (!stack.OnAccepted(listener, connection, (IPEndPoint)hostConnection.RemoteEndPoint!))
        {
            connectionEndpoint.Dispose();
            return null;
        }

        return (connection, connectionEndpoint);
    }

    private async Task ConnectAsync(VirtualSocket socket, PlainEndpoint endpoint, IPEndPoint remote)
    {
        var stack = Stack;
        try
        {
            await endpoint.Socket.ConnectAsync(remote, endpoint.Receiving.Token).ConfigureAwait(false);
            lock (stack.SyncRoot)
            {
                socket.HostEndpoint = endpoint.Socket.LocalEndPoint?.ToString();
            }

            stack.OnConnected(socket, (IPEndPoint)endpoint.Socket.LocalEndPoint!);
            endpoint.ReceiveLoop = ReceiveAsync(socket, endpoint);
            lock (stack.SyncRoot)
            {
                // Bytes the guest queued while connecting (non-blocking sends) go now.
                Transmit(socket);
            }
        }
        catch (SocketException e)
        {
            stack.OnConnectFailed(socket, SocketErrorMapping.ToErrno(e));
        }
        catch (Exception e) when (IsTeardown(e))
        {
        }
    }

    private async Task ReceiveAsync(VirtualSocket socket, PlainEndpoint endpoint)
    {
        var stack = Stack;
        var token = endpoint.Receiving.Token;
        var buffer = new byte[BufferSize];
        try
        {
            while (true)
            {
                if (endpoint.EndOfStreamAfter == 0)
                {
                    // A restored connection whose peer had closed: its FIN is not in the new kernel socket, only in the record.
                    stack.OnPeerClosed(socket);
                    return;
                }

                int room;
                while ((room = stack.ReceiveRoom(socket)) == 0)
                {
                    await endpoint.Room.WaitAsync(token).ConfigureAwait(false);
                }

                var limit = Math.Min(Math.Min(room, buffer.Length), endpoint.EndOfStreamAfter ?? int.MaxValue);
                var n = await endpoint.Socket.ReceiveAsync(buffer.AsMemory(0, limit), SocketFlags.None, token).ConfigureAwait(false);
                if (n == 0)
                {
                    stack.OnPeerClosed(socket);
                    return;
                }

                endpoint.EndOfStreamAfter -= n;
                endpoint.LastReceived = Stopwatch.GetTimestamp();
                stack.OnReceived(socket, buffer.AsSpan(0, n));
            }
        }
        catch (SocketException e) when (!endpoint.Frozen)
        {
            stack.OnReset(socket, SocketErrorMapping.ToErrno(e));
        }
        catch (SocketException)
        {
        }
        catch (Exception e) when (IsTeardown(e))
        {
        }
    }

    private async Task ReceiveDatagramsAsync(VirtualSocket socket, PlainEndpoint endpoint)
    {
        var stack = Stack;
        var token = endpoint.Receiving.Token;
        var buffer = new byte[BufferSize];
        EndPoint any = endpoint.Socket.AddressFamily == AddressFamily.InterNetworkV6
            ? new IPEndPoint(IPAddress.IPv6Any, 0)
            : new IPEndPoint(IPAddress.Any, 0);
        try
        {
            while (true)
            {
                while (!stack.HasDatagramRoom(socket))
                {
                    await endpoint.Room.WaitAsync(token).ConfigureAwait(false);
                }

                SocketReceiveFromResult result;
                try
                {
                    result = await endpoint.Socket.ReceiveFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);
                }
                catch (SocketException) when (!token.IsCancellationRequested)
                {
                    // ICMP errors (port unreachable for an earlier sendto) surface here on Linux; UDP carries on.
                    // The pause keeps a persistent error from turning into a hot loop.
                    await Task.Delay(DatagramRetryDelay, token).ConfigureAwait(false);
                    continue;
                }

                var from = GuestEndpoint.From((IPEndPoint)result.RemoteEndPoint);
                stack.OnDatagram(socket, new Datagram(from, buffer.AsSpan(0, result.ReceivedBytes).ToArray()));
            }
        }
        catch (SocketException)
        {
        }
        catch (Exception e) when (IsTeardown(e))
        {
        }
    }

    /// <summary>Drains the send queue to the host socket, then sends FIN if the guest shut its write side, then ends.</summary>
    private async Task PumpAsync(VirtualSocket socket, PlainEndpoint endpoint)
    {
        var stack = Stack;
        var buffer = new byte[BufferSize];
        try
        {
            while (!endpoint.PendingTail.IsEmpty)
            {
                // What a restored connection had queued but never sent goes first: it precedes everything in the send queue.
                var tail = await endpoint.Socket.SendAsync(endpoint.PendingTail, SocketFlags.None, endpoint.Sending.Token).ConfigureAwait(false);
                endpoint.KernelAccepted += tail;
                endpoint.PendingTail = endpoint.PendingTail[tail..];
            }

            while (true)
            {
                var n = stack.PeekForTransmit(socket, buffer, out _);
                if (n == 0)
                {
                    bool sendFin;
                    bool dispose;
                    lock (stack.SyncRoot)
                    {
                        if (!socket.SendQueue.IsEmpty)
                        {
                            continue;
                        }

                        endpoint.Pumping = false;
                        sendFin = (socket.WriteShut || endpoint.CloseRequested) && !endpoint.FinSent;
                        endpoint.FinSent |= sendFin;
                        dispose = endpoint.CloseRequested;
                    }

                    if (sendFin)
                    {
                        endpoint.Socket.Shutdown(SocketShutdown.Send);
                    }

                    if (dispose)
                    {
                        endpoint.Dispose();
                    }

                    return;
                }

                var sent = await endpoint.Socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, endpoint.Sending.Token).ConfigureAwait(false);
                endpoint.KernelAccepted += sent;
                stack.OnTransmitted(socket, sent);
            }
        }
        catch (SocketException e)
        {
            if (!endpoint.Frozen)
            {
                stack.OnReset(socket, SocketErrorMapping.ToErrno(e));
            }

            EndPump(stack, endpoint);
        }
        catch (OperationCanceledException)
        {
            EndPump(stack, endpoint);
        }
        catch (ObjectDisposedException)
        {
            EndPump(stack, endpoint);
        }
    }

    /// <summary>The guest closed the socket under a loop: cancellation or a disposed host socket ends it quietly.</summary>
    private static bool IsTeardown(Exception e) => e is OperationCanceledException or ObjectDisposedException;

    private static void EndPump(VirtualSocketStack stack, PlainEndpoint endpoint)
    {
        bool dispose;
        lock (stack.SyncRoot)
        {
            endpoint.Pumping = false;
            dispose = endpoint.CloseRequested;
        }

        if (dispose)
        {
            endpoint.Dispose();
        }
    }

    private static void Apply(SocketOptions options, Socket socket, VirtualSocketType type)
    {
        try
        {
            // Only ever turned on: .NET already sets SO_REUSEADDR on Linux, and clearing it would leave a restarted
            // server unable to bind while its old connections sit in TIME_WAIT.
            if (options.ReuseAddress)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }

            socket.SendBufferSize = options.SendBufferSize;
            socket.ReceiveBufferSize = options.ReceiveBufferSize;
            if (type == VirtualSocketType.Stream)
            {
                socket.NoDelay = options.NoDelay;
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, options.KeepAlive);
            }
        }
        catch (SocketException)
        {
            // Options are advice to the host stack; a socket that refuses one still works.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static void TrySetLinger(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }
    }
}
