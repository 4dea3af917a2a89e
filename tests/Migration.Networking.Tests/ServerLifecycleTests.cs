using System.Net;
using System.Net.Sockets;
using System.Text;
using Migration.Core.Sockets;
using static Migration.Networking.Tests.StackHarness;

namespace Migration.Networking.Tests;

/// <summary>A guest server through every state of SocketStatus's diagram, against a real client.</summary>
public class ServerLifecycleTests
{
    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public async Task A_server_socket_goes_from_unconnected_to_closed_through_every_state()
    {
        using var h = new StackHarness();
        var stack = h.Stack;

        var listener = h.NewSocket();
        Assert.Equal(SocketStatus.Unconnected, h.Status(listener));
        Assert.Equal(SocketEvents.None, h.Poll(listener));

        AssertOk(stack.Bind(listener, Loopback(0)));
        Assert.Equal(SocketStatus.Bound, h.Status(listener));
        var port = h.Read(listener, s => s.LocalAddress!.Port);
        Assert.NotEqual(0, port);
        Assert.Equal($"127.0.0.1:{port}", h.Read(listener, s => s.HostEndpoint));

        AssertOk(stack.Listen(listener, 8));
        Assert.Equal(SocketStatus.Listening, h.Status(listener));
        Assert.Equal(8, h.Read(listener, s => s.Backlog));
        Assert.Equal(SocketEvents.None, h.Poll(listener));

        using var client = new TcpClient(AddressFamily.InterNetwork);
        using (var timeout = TimeoutSource())
        {
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        }

        await h.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the connection is queued");
        Assert.Equal(SocketEvents.Readable, h.Poll(listener));
        Assert.Equal(SocketEvents.Readable, h.Read(listener, s => s.Events));

        var accepted = stack.Accept(listener, nonBlockingResult: true, out var peer);
        Assert.False(accepted.Blocked);
        var connection = (int)accepted.Value;
        Assert.NotEqual(listener, connection);
        Assert.Equal(GuestEndpoint.From((IPEndPoint)client.Client.LocalEndPoint!), peer);
        Assert.Equal(SocketStatus.Connected, h.Status(connection));
        Assert.False(h.Read(connection, s => s.Blocking));
        Assert.Equal(SocketEvents.Writable, h.Poll(connection));
        Assert.Equal(0, h.Read(listener, s => s.ConnectionQueue.Count));
        Assert.Equal(SocketEvents.None, h.Poll(listener));

        // Client to guest: Connected → Receiving → (read) → Connected.
        var stream = client.GetStream();
        await stream.WriteAsync(Ascii("hello"));
        await h.WaitUntil(connection, s => s.ReceiveQueue.Count == 5, "5 bytes are queued");
        Assert.Equal(SocketStatus.Receiving, h.Status(connection));
        Assert.Equal(SocketEvents.Readable | SocketEvents.Writable, h.Poll(connection));

        var buffer = new byte[16];
        AssertOk(stack.Receive(connection, buffer.AsSpan(0, 3), peek: true), 3);
        Assert.Equal(Ascii("hel"), buffer[..3]);
        Assert.Equal(SocketStatus.Receiving, h.Status(connection));
        AssertOk(stack.Receive(connection, buffer, peek: false), 5);
        Assert.Equal(Ascii("hello"), buffer[..5]);
        Assert.Equal(SocketStatus.Connected, h.Status(connection));
        AssertErrno(SocketErrno.EAGAIN, stack.Receive(connection, buffer, peek: false));

        // Guest to client: Connected → (Sending) → Connected once the bytes left.
        AssertOk(stack.Send(connection, Ascii("world")), 5);
        Assert.Contains(h.Status(connection), new[] { SocketStatus.Sending, SocketStatus.Connected });
        Assert.Equal(Ascii("world"), await ReadExactly(stream, 5));
        await h.WaitUntil(connection, s => s.SendQueue.IsEmpty && s.Status == SocketStatus.Connected, "the send queue drains");

        // The guest shuts its write side: Shutdown, the client reads end of stream, and the guest can no longer send.
        AssertOk(stack.Shutdown(connection, read: false, write: true));
        Assert.Equal(SocketStatus.Shutdown, h.Status(connection));
        Assert.Equal(0, await ReadOnce(stream, buffer));
        AssertErrno(SocketErrno.EPIPE, stack.Send(connection, Ascii("x")));
        Assert.Equal(SocketEvents.None, h.Poll(connection) & SocketEvents.Writable);

        // The other direction is still open.
        await stream.WriteAsync(Ascii("late"));
        await h.WaitUntil(connection, s => s.ReceiveQueue.Count == 4, "4 more bytes are queued");
        Assert.Equal(SocketStatus.Shutdown, h.Status(connection));
        AssertOk(stack.Receive(connection, buffer, peek: false), 4);
        Assert.Equal(Ascii("late"), buffer[..4]);

        // The peer closes too: both directions are closed, so the socket is Disconnected and reads give end of stream.
        client.Client.Shutdown(SocketShutdown.Send);
        await h.WaitUntil(connection, s => s.Status == SocketStatus.Disconnected, "the socket is disconnected");
        Assert.True(h.Read(connection, s => s.PeerClosed));
        AssertOk(stack.Receive(connection, buffer, peek: false), 0);
        Assert.Equal(SocketEvents.Readable | SocketEvents.HangUp, h.Poll(connection));

        // Close: the handle is gone and every call on it is EBADF.
        AssertOk(stack.Close(connection));
        Assert.Null(stack.Find(connection));
        AssertErrno(SocketErrno.EBADF, stack.Receive(connection, buffer, peek: false));
        AssertErrno(SocketErrno.EBADF, stack.Send(connection, buffer));
        AssertErrno(SocketErrno.EBADF, stack.Close(connection));
        Assert.Equal(SocketEvents.Invalid, h.Poll(connection));

        AssertOk(stack.Close(listener));
        Assert.Equal(0, stack.Count);

        // The listener's host port is released: a fresh listener can take it.
        using var reuse = new TcpListener(IPAddress.Loopback, port);
        reuse.Start();
    }

    [Fact]
    public async Task Bytes_a_client_sends_before_the_guest_accepts_wait_in_the_new_socket()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        using var client = new TcpClient(AddressFamily.InterNetwork);
        using (var timeout = TimeoutSource())
        {
            await client.ConnectAsync(endpoint, timeout.Token);
        }

        await client.GetStream().WriteAsync(Ascii("early"));
        await h.WaitUntil(listener, s => s.ConnectionQueue.Count == 1 && s.ConnectionQueue[0].ReceiveQueue.Count == 5, "the early bytes are queued");

        var accepted = h.Stack.Accept(listener, nonBlockingResult: false, out _);
        var connection = (int)accepted.Value;
        Assert.True(h.Read(connection, s => s.Blocking));
        Assert.Equal(SocketStatus.Receiving, h.Status(connection));
        Assert.Equal(Ascii("early"), await h.ReceiveExactly(connection, 5));
    }

    [Fact]
    public async Task A_blocking_accept_blocks_until_a_connection_arrives_then_the_reissued_call_succeeds()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen(blocking: true);
        Assert.Equal(SocketCallResult.Block, h.Stack.Accept(listener, false, out var none));
        Assert.Null(none);

        using var client = new TcpClient(AddressFamily.InterNetwork);
        using (var timeout = TimeoutSource())
        {
            await client.ConnectAsync(endpoint, timeout.Token);
        }

        await h.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the connection is queued");
        var accepted = h.Stack.Accept(listener, false, out var peer);
        Assert.False(accepted.Blocked);
        Assert.True(accepted.Value >= 0);
        Assert.Equal(((IPEndPoint)client.Client.LocalEndPoint!).Port, peer!.Port);
    }

    [Fact]
    public async Task Listen_again_only_changes_the_backlog_and_the_backlog_bounds_the_queue()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen(backlog: 16);
        AssertOk(h.Stack.Listen(listener, 2));
        Assert.Equal(SocketStatus.Listening, h.Status(listener));
        Assert.Equal(2, h.Read(listener, s => s.Backlog));

        var clients = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var client = new TcpClient(AddressFamily.InterNetwork);
                clients.Add(client);
                using var timeout = TimeoutSource();
                // The host's own backlog completes handshakes; only the virtual queue is bounded by the guest's backlog.
                await client.ConnectAsync(endpoint, timeout.Token);
            }

            await h.WaitUntil(listener, s => s.ConnectionQueue.Count == 2, "two connections are queued");
            Assert.Equal(2, h.Read(listener, s => s.ConnectionQueue.Count));

            // Accepting makes room: the backend takes the next host connections.
            for (var i = 0; i < 4; i++)
            {
                await h.WaitUntil(listener, s => s.ConnectionQueue.Count > 0, "a connection is queued");
                Assert.True(h.Read(listener, s => s.ConnectionQueue.Count) <= 2);
                Assert.True(h.Stack.Accept(listener, true, out _).Value >= 0);
            }

            Assert.Equal(5, h.Stack.Count);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task Closing_a_listener_closes_the_connections_the_guest_never_accepted()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        using var client = new TcpClient(AddressFamily.InterNetwork);
        using (var timeout = TimeoutSource())
        {
            await client.ConnectAsync(endpoint, timeout.Token);
        }

        await h.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the connection is queued");
        AssertOk(h.Stack.Close(listener));

        // As on Linux, the client learns the connection is gone (end of stream or reset) instead of waiting forever.
        var buffer = new byte[1];
        try
        {
            Assert.Equal(0, await ReadOnce(client.GetStream(), buffer));
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
        }
    }

    [Fact]
    public async Task Closing_a_connection_still_delivers_queued_output_then_end_of_stream()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint);
        using (client)
        {
            var payload = Pattern(100_000, 3);
            AssertOk(h.Stack.Send(connection, payload), payload.Length);
            AssertOk(h.Stack.Close(connection));
            Assert.Null(h.Stack.Find(connection));

            var stream = client.GetStream();
            Assert.Equal(payload, await ReadExactly(stream, payload.Length));
            Assert.Equal(0, await ReadOnce(stream, new byte[1]));
        }
    }

    [Fact]
    public async Task Closing_with_a_zero_linger_resets_the_connection()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint);
        using (client)
        {
            AssertOk(h.Stack.SetOption(connection, SocketOptionNames.SolSocket, SocketOptionNames.SoLinger, 1, 0));
            AssertOk(h.Stack.Close(connection));

            var e = await Assert.ThrowsAsync<IOException>(async () => await ReadOnce(client.GetStream(), new byte[1]));
            Assert.Equal(SocketError.ConnectionReset, Assert.IsType<SocketException>(e.InnerException).SocketErrorCode);
        }
    }

    [Fact]
    public void Closing_a_bound_socket_that_never_connected_releases_its_host_port_at_once_without_a_reset()
    {
        using var h = new StackHarness();
        var socket = h.NewSocket();
        AssertOk(h.Stack.Bind(socket, Loopback(0)));
        var port = h.Read(socket, s => IPEndPoint.Parse(s.HostEndpoint!).Port);
        var changed = 0;
        h.Stack.Changed += () => Interlocked.Increment(ref changed);

        AssertOk(h.Stack.Close(socket));

        // Nothing to flush and no FIN to send: the host socket is gone when Close returns.
        var again = new TcpListener(IPAddress.Loopback, port);
        again.Start();
        again.Stop();
        Assert.Equal(0, Volatile.Read(ref changed));
    }
}
