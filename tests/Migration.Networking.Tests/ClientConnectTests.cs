using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;
using static Migration.Networking.Tests.StackHarness;

namespace Migration.Networking.Tests;

/// <summary>The guest as a client: connect to real listeners, blocking and not, succeeding and refused.</summary>
public class ClientConnectTests
{
    private static TcpListener StartServer()
    {
        var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        return server;
    }

    private static async Task<TcpClient> AcceptAsync(TcpListener server)
    {
        using var timeout = TimeoutSource();
        return await server.AcceptTcpClientAsync(timeout.Token);
    }

    private static GuestEndpoint EndpointOf(TcpListener server) => GuestEndpoint.From((IPEndPoint)server.LocalEndpoint);

    [Fact]
    public async Task A_connect_stays_Connecting_until_the_host_handshake_completes()
    {
        using var h = new StackHarness();
        // On loopback a handshake can finish within the connect call itself. A listener whose accept queue is full
        // drops SYNs instead, which holds both connects in Connecting until the SYN is retransmitted (after about a
        // second) into a queue that has room again.
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server.Listen(1);
        var endpoint = (IPEndPoint)server.LocalEndPoint!;
        using var filler1 = new TcpClient(AddressFamily.InterNetwork);
        using var filler2 = new TcpClient(AddressFamily.InterNetwork);
        using (var timeout = TimeoutSource())
        {
            // A backlog of 1 holds two connections.
            await filler1.ConnectAsync(endpoint, timeout.Token);
            await filler2.ConnectAsync(endpoint, timeout.Token);
        }

        var blocking = h.NewSocket(blocking: true);
        var nonBlocking = h.NewSocket(blocking: false);
        Assert.Equal(SocketStatus.Unconnected, h.Status(blocking));
        var target = GuestEndpoint.From(endpoint);
        Assert.True(h.Stack.Connect(blocking, target).Blocked);
        AssertErrno(SocketErrno.EINPROGRESS, h.Stack.Connect(nonBlocking, target));

        Assert.Equal(SocketStatus.Connecting, h.Status(blocking));
        Assert.Equal(SocketStatus.Connecting, h.Status(nonBlocking));
        Assert.True(h.Read(blocking, s => s.ConnectInProgress));
        Assert.Equal(SocketEvents.None, h.Poll(blocking));
        Assert.Equal(SocketEvents.None, h.Poll(nonBlocking));
        // Re-issued while the handshake is pending: the blocking call blocks again, the other is told it is under way.
        Assert.True(h.Stack.Connect(blocking, target).Blocked);
        AssertErrno(SocketErrno.EALREADY, h.Stack.Connect(nonBlocking, target));
        // Sends wait for the connection (blocking) or say "try again" (non-blocking), as on Linux.
        Assert.True(h.Stack.Send(blocking, [1]).Blocked);
        AssertErrno(SocketErrno.EAGAIN, h.Stack.Send(nonBlocking, [1]));

        using (server.Accept())
        using (server.Accept())
        {
            await h.WaitUntil(
                () => h.Stack.Find(blocking)!.Status != SocketStatus.Connecting && h.Stack.Find(nonBlocking)!.Status != SocketStatus.Connecting,
                "both connects complete");
        }

        Assert.Equal(SocketStatus.Connected, h.Status(blocking));
        Assert.Equal(SocketStatus.Connected, h.Status(nonBlocking));
        AssertOk(h.Stack.Connect(blocking, target));
        Assert.Equal(SocketEvents.Writable, h.Poll(nonBlocking));
        AssertOk(h.Stack.GetOption(nonBlocking, SocketOptionNames.SolSocket, SocketOptionNames.SoError, out var error, out _));
        Assert.Equal(0, error);
    }

    [Fact]
    public async Task A_blocking_connect_blocks_and_the_reissued_call_returns_0_once_connected()
    {
        using var h = new StackHarness();
        var server = StartServer();
        try
        {
            var socket = h.NewSocket(blocking: true);
            Assert.Equal(SocketStatus.Unconnected, h.Status(socket));

            Assert.True(h.Stack.Connect(socket, EndpointOf(server)).Blocked);
            Assert.True(h.Read(socket, s => s.ConnectInProgress));
            await h.WaitUntil(socket, s => s.Status != SocketStatus.Connecting, "the connect completes");
            Assert.Equal(SocketStatus.Connected, h.Status(socket));
            AssertOk(h.Stack.Connect(socket, EndpointOf(server)));
            Assert.False(h.Read(socket, s => s.ConnectInProgress));
            AssertErrno(SocketErrno.EISCONN, h.Stack.Connect(socket, EndpointOf(server)));

            using var peer = await AcceptAsync(server);
            AssertOk(h.Stack.GetName(socket, peer: false, out var local));
            Assert.Equal(GuestEndpoint.From((IPEndPoint)peer.Client.RemoteEndPoint!), local);
            AssertOk(h.Stack.GetName(socket, peer: true, out var remote));
            Assert.Equal(EndpointOf(server), remote);

            var payload = Pattern(1000, 1);
            AssertOk(h.Stack.Send(socket, payload), payload.Length);
            var stream = peer.GetStream();
            Assert.Equal(payload, await ReadExactly(stream, payload.Length));
            await stream.WriteAsync(payload.AsMemory(0, 10));
            Assert.Equal(payload[..10], await h.ReceiveExactly(socket, 10));
        }
        finally
        {
            server.Stop();
        }
    }

    [Fact]
    public async Task A_non_blocking_connect_returns_EINPROGRESS_then_becomes_writable_with_SO_ERROR_0()
    {
        using var h = new StackHarness();
        var server = StartServer();
        try
        {
            var socket = h.NewSocket(blocking: false);
            AssertErrno(SocketErrno.EINPROGRESS, h.Stack.Connect(socket, EndpointOf(server)));
            Assert.False(h.Read(socket, s => s.ConnectInProgress));

            await h.WaitUntil(() => h.Poll(socket, SocketEvents.Writable) == SocketEvents.Writable, "the socket is writable");
            Assert.Equal(SocketStatus.Connected, h.Status(socket));
            AssertOk(h.Stack.GetOption(socket, SocketOptionNames.SolSocket, SocketOptionNames.SoError, out var error, out _));
            Assert.Equal(0, error);
            AssertErrno(SocketErrno.EISCONN, h.Stack.Connect(socket, EndpointOf(server)));

            using var peer = await AcceptAsync(server);
            AssertOk(h.Stack.Send(socket, [42]), 1);
            Assert.Equal([42], await ReadExactly(peer.GetStream(), 1));
        }
        finally
        {
            server.Stop();
        }
    }

    [Fact]
    public async Task A_blocking_connect_to_a_closed_port_reports_ECONNREFUSED_through_the_reissued_call()
    {
        using var h = new StackHarness();
        using var closed = ClosedPort(out var port);
        var socket = h.NewSocket(blocking: true);

        // On loopback the refusal may even arrive within the call; either way the outcome waits for the re-issued call.
        Assert.True(h.Stack.Connect(socket, Loopback(port)).Blocked);
        await h.WaitUntil(socket, s => s.Status == SocketStatus.Disconnected, "the connect fails");
        Assert.Equal(SocketEvents.Error | SocketEvents.HangUp, h.Poll(socket));

        AssertErrno(SocketErrno.ECONNREFUSED, h.Stack.Connect(socket, Loopback(port)));
        // The re-issued call consumed the error: it is reported once.
        Assert.Equal(0, h.Read(socket, s => s.PendingError));
        Assert.False(h.Read(socket, s => s.ConnectInProgress));
        Assert.Equal(SocketEvents.HangUp, h.Poll(socket));
        AssertErrno(SocketErrno.ENOTCONN, h.Stack.Send(socket, [1]));
    }

    [Fact]
    public async Task A_non_blocking_connect_to_a_closed_port_reports_ECONNREFUSED_through_SO_ERROR()
    {
        using var h = new StackHarness();
        using var closed = ClosedPort(out var port);
        var socket = h.NewSocket(blocking: false);

        AssertErrno(SocketErrno.EINPROGRESS, h.Stack.Connect(socket, Loopback(port)));
        await h.WaitUntil(socket, s => s.Status == SocketStatus.Disconnected, "the connect fails");
        // Error and hang-up are reported even to a poll that asked only for writability.
        Assert.Equal(SocketEvents.Error | SocketEvents.HangUp, h.Poll(socket, SocketEvents.Writable));

        AssertOk(h.Stack.GetOption(socket, SocketOptionNames.SolSocket, SocketOptionNames.SoError, out var error, out _));
        Assert.Equal(SocketErrno.ECONNREFUSED, error);
        AssertOk(h.Stack.GetOption(socket, SocketOptionNames.SolSocket, SocketOptionNames.SoError, out error, out _));
        Assert.Equal(0, error);
        Assert.Equal(SocketEvents.HangUp, h.Poll(socket));
        AssertErrno(SocketErrno.ENOTCONN, h.Stack.Receive(socket, new byte[1], peek: false));
    }

    [Fact]
    public async Task A_bound_socket_connects_from_its_bound_port()
    {
        using var h = new StackHarness();
        var server = StartServer();
        try
        {
            var socket = h.NewSocket(blocking: false);
            AssertOk(h.Stack.Bind(socket, Loopback(0)));
            var port = h.Read(socket, s => s.LocalAddress!.Port);
            AssertErrno(SocketErrno.EINPROGRESS, h.Stack.Connect(socket, EndpointOf(server)));
            using var peer = await AcceptAsync(server);
            Assert.Equal(port, ((IPEndPoint)peer.Client.RemoteEndPoint!).Port);
            await h.WaitUntil(socket, s => s.Status == SocketStatus.Connected, "the connect completes");
            AssertOk(h.Stack.GetName(socket, peer: false, out var local));
            Assert.Equal(Loopback(port), local);
        }
        finally
        {
            server.Stop();
        }
    }

    [Fact]
    public void Connect_refuses_a_listener_and_a_family_mismatch()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        AssertErrno(SocketErrno.EINVAL, h.Stack.Connect(listener, GuestEndpoint.From(endpoint)));
        var socket = h.NewSocket();
        AssertErrno(SocketErrno.EAFNOSUPPORT, h.Stack.Connect(socket, new GuestEndpoint(IPAddress.IPv6Loopback.GetAddressBytes(), endpoint.Port)));
        Assert.Equal(SocketStatus.Unconnected, h.Status(socket));
    }
}
