using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;
using static Migration.Networking.Tests.StackHarness;

namespace Migration.Networking.Tests;

/// <summary>Every refusal the socket calls make, with Linux's errno.</summary>
public class ErrorPathTests
{
    /// <summary>
    /// Closes with SO_LINGER {1, 0}, which sends a reset. The socket itself, not the TcpClient: disposing the client's
    /// NetworkStream shuts the connection down first, and the FIN that sends would reach the guest before the reset.
    /// </summary>
    private static void AbortiveClose(TcpClient client)
    {
        client.Client.LingerState = new LingerOption(true, 0);
        client.Client.Close();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(int.MaxValue)]
    public void Every_call_on_an_unknown_handle_is_EBADF(int handle)
    {
        using var h = new StackHarness();
        // With handles 0-4 taken, 5 is unknown because it is free, not because the table is empty.
        if (handle == 5)
        {
            for (var i = 0; i < 5; i++)
            {
                h.NewSocket();
            }
        }

        var stack = h.Stack;
        var buffer = new byte[8];
        AssertErrno(SocketErrno.EBADF, stack.Bind(handle, Loopback(0)));
        AssertErrno(SocketErrno.EBADF, stack.Listen(handle, 1));
        AssertErrno(SocketErrno.EBADF, stack.Accept(handle, false, out var peer));
        Assert.Null(peer);
        AssertErrno(SocketErrno.EBADF, stack.Connect(handle, Loopback(1)));
        AssertErrno(SocketErrno.EBADF, stack.Send(handle, buffer));
        AssertErrno(SocketErrno.EBADF, stack.Receive(handle, buffer, peek: false));
        AssertErrno(SocketErrno.EBADF, stack.Receive(handle, buffer, peek: true));
        AssertErrno(SocketErrno.EBADF, stack.SendTo(handle, buffer, Loopback(1)));
        AssertErrno(SocketErrno.EBADF, stack.ReceiveFrom(handle, buffer, false, out var from));
        Assert.Null(from);
        AssertErrno(SocketErrno.EBADF, stack.Shutdown(handle, true, true));
        AssertErrno(SocketErrno.EBADF, stack.SetBlocking(handle, false));
        AssertErrno(SocketErrno.EBADF, stack.GetName(handle, false, out var name));
        Assert.Null(name);
        AssertErrno(SocketErrno.EBADF, stack.GetName(handle, true, out _));
        AssertErrno(SocketErrno.EBADF, stack.GetOption(handle, SocketOptionNames.SolSocket, SocketOptionNames.SoType, out _, out _));
        AssertErrno(SocketErrno.EBADF, stack.SetOption(handle, SocketOptionNames.SolSocket, SocketOptionNames.SoReuseAddr, 1, 0));
        AssertErrno(SocketErrno.EBADF, stack.Close(handle));
        if (handle >= 0)
        {
            Assert.Equal(SocketEvents.Invalid, h.Poll(handle));
        }
    }

    [Fact]
    public void Poll_skips_negative_handles_and_always_reports_invalid_ones()
    {
        using var h = new StackHarness();
        var socket = h.NewSocket(VirtualSocketType.Datagram);
        var result = new SocketEvents[3];
        var ready = h.Stack.Poll([-1, socket, 77], [SocketEvents.Readable, SocketEvents.Writable, SocketEvents.None], result);
        Assert.Equal(2, ready);
        Assert.Equal([SocketEvents.None, SocketEvents.Writable, SocketEvents.Invalid], result);
    }

    [Fact]
    public void Socket_refuses_unsupported_families_types_and_protocols()
    {
        using var h = new StackHarness();
        AssertErrno(SocketErrno.EAFNOSUPPORT, h.Stack.Socket((VirtualAddressFamily)1, VirtualSocketType.Stream, null, true));
        AssertErrno(SocketErrno.EPROTONOSUPPORT, h.Stack.Socket(VirtualAddressFamily.IPv4, (VirtualSocketType)3, null, true));
        AssertErrno(SocketErrno.EPROTONOSUPPORT, h.Stack.Socket(VirtualAddressFamily.IPv4, VirtualSocketType.Stream, VirtualSocketProtocol.Udp, true));
        AssertErrno(SocketErrno.EPROTONOSUPPORT, h.Stack.Socket(VirtualAddressFamily.IPv6, VirtualSocketType.Datagram, VirtualSocketProtocol.Tcp, true));
        AssertOk(h.Stack.Socket(VirtualAddressFamily.IPv6, VirtualSocketType.Datagram, VirtualSocketProtocol.Udp, true), 0);
        Assert.Equal(1, h.Stack.Count);
    }

    [Fact]
    public void Bind_to_a_port_a_host_listener_holds_is_EADDRINUSE_and_the_socket_can_bind_elsewhere()
    {
        using var h = new StackHarness();
        var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        try
        {
            var port = ((IPEndPoint)holder.LocalEndpoint).Port;
            var socket = h.NewSocket();
            AssertErrno(SocketErrno.EADDRINUSE, h.Stack.Bind(socket, Loopback(port)));
            AssertErrno(SocketErrno.EADDRINUSE, h.Stack.Bind(socket, Any(port)));
            Assert.Equal(SocketStatus.Unconnected, h.Status(socket));
            Assert.Null(h.Read(socket, s => s.LocalAddress));

            AssertOk(h.Stack.Bind(socket, Loopback(0)));
            Assert.Equal(SocketStatus.Bound, h.Status(socket));
        }
        finally
        {
            holder.Stop();
        }
    }

    [Fact]
    public void Bind_twice_or_with_the_wrong_family_is_refused()
    {
        using var h = new StackHarness();
        var socket = h.NewSocket();
        AssertErrno(SocketErrno.EAFNOSUPPORT, h.Stack.Bind(socket, new GuestEndpoint(new byte[16], 0)));
        AssertOk(h.Stack.Bind(socket, Loopback(0)));
        AssertErrno(SocketErrno.EINVAL, h.Stack.Bind(socket, Loopback(0)));
    }

    [Fact]
    public void Too_many_sockets_is_EMFILE_and_a_closed_handle_is_reused()
    {
        using var h = new StackHarness(maxSockets: 3);
        Assert.Equal(0, h.NewSocket());
        Assert.Equal(1, h.NewSocket(VirtualSocketType.Datagram));
        Assert.Equal(2, h.NewSocket());
        AssertErrno(SocketErrno.EMFILE, h.Stack.Socket(VirtualAddressFamily.IPv4, VirtualSocketType.Stream, null, false));
        Assert.Equal(3, h.Stack.Count);

        AssertOk(h.Stack.Close(1));
        // The lowest free handle, as POSIX gives descriptors.
        Assert.Equal(1, h.NewSocket());
    }

    [Fact]
    public async Task Accept_with_a_full_table_is_EMFILE_and_keeps_the_connection_queued()
    {
        using var h = new StackHarness(maxSockets: 2);
        var (listener, endpoint) = h.Listen();
        var (first, client1) = await h.Connect(listener, endpoint);
        using (client1)
        {
            using var client2 = new TcpClient(AddressFamily.InterNetwork);
            using (var timeout = TimeoutSource())
            {
                await client2.ConnectAsync(endpoint, timeout.Token);
            }

            await h.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the second connection is queued");
            AssertErrno(SocketErrno.EMFILE, h.Stack.Accept(listener, true, out _));
            Assert.Equal(1, h.Read(listener, s => s.ConnectionQueue.Count));

            AssertOk(h.Stack.Close(first));
            var accepted = h.Stack.Accept(listener, true, out var peer);
            AssertOk(accepted, first);
            Assert.Equal(((IPEndPoint)client2.Client.LocalEndPoint!).Port, peer!.Port);
        }
    }

    [Fact]
    public void Listen_needs_a_bound_stream_socket()
    {
        using var h = new StackHarness();
        var unbound = h.NewSocket();
        AssertErrno(SocketErrno.EINVAL, h.Stack.Listen(unbound, 5));
        Assert.Equal(SocketStatus.Unconnected, h.Status(unbound));

        var udp = h.NewSocket(VirtualSocketType.Datagram);
        AssertOk(h.Stack.Bind(udp, Loopback(0)));
        AssertErrno(SocketErrno.EOPNOTSUPP, h.Stack.Listen(udp, 5));
    }

    [Fact]
    public void Accept_on_a_socket_that_is_not_listening_is_EINVAL()
    {
        using var h = new StackHarness();
        var socket = h.NewSocket(blocking: true);
        AssertErrno(SocketErrno.EINVAL, h.Stack.Accept(socket, false, out _));
        AssertOk(h.Stack.Bind(socket, Loopback(0)));
        AssertErrno(SocketErrno.EINVAL, h.Stack.Accept(socket, false, out _));
    }

    [Fact]
    public void Accept_with_nothing_pending_is_EAGAIN_when_non_blocking_and_blocks_otherwise()
    {
        using var h = new StackHarness();
        var (listener, _) = h.Listen(blocking: false);
        AssertErrno(SocketErrno.EAGAIN, h.Stack.Accept(listener, false, out _));
        AssertOk(h.Stack.SetBlocking(listener, true));
        Assert.Equal(SocketCallResult.Block, h.Stack.Accept(listener, false, out _));
    }

    [Fact]
    public async Task Receive_with_nothing_queued_is_EAGAIN_when_non_blocking_and_blocks_otherwise()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint, nonBlocking: true);
        using (client)
        {
            var buffer = new byte[4];
            AssertErrno(SocketErrno.EAGAIN, h.Stack.Receive(connection, buffer, peek: false));
            AssertErrno(SocketErrno.EAGAIN, h.Stack.Receive(connection, buffer, peek: true));
            AssertOk(h.Stack.SetBlocking(connection, true));
            Assert.Equal(SocketCallResult.Block, h.Stack.Receive(connection, buffer, peek: false));
            // A zero-length read never waits.
            AssertOk(h.Stack.Receive(connection, [], peek: false));

            await client.GetStream().WriteAsync(new byte[] { 9 });
            await h.WaitUntil(connection, s => !s.ReceiveQueue.IsEmpty, "the byte arrives");
            AssertOk(h.Stack.Receive(connection, buffer, peek: false), 1);
        }
    }

    [Fact]
    public void Calls_that_need_a_connection_are_ENOTCONN_on_an_unconnected_socket()
    {
        using var h = new StackHarness();
        var socket = h.NewSocket(blocking: true);
        AssertErrno(SocketErrno.ENOTCONN, h.Stack.Send(socket, [1]));
        AssertErrno(SocketErrno.ENOTCONN, h.Stack.Receive(socket, new byte[1], peek: false));
        AssertErrno(SocketErrno.ENOTCONN, h.Stack.Shutdown(socket, false, true));
        AssertErrno(SocketErrno.ENOTCONN, h.Stack.GetName(socket, peer: true, out _));
        AssertErrno(SocketErrno.EISCONN, h.Stack.SendTo(socket, [1], Loopback(9)));
        AssertErrno(SocketErrno.EDESTADDRREQ, h.Stack.SendTo(socket, [1], null));
    }

    [Fact]
    public async Task A_peer_reset_gives_ECONNRESET_once_then_end_of_stream_and_sends_fail()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint);
        using (client)
        {
            await client.GetStream().WriteAsync(new byte[] { 1, 2, 3 });
            await h.WaitUntil(connection, s => s.ReceiveQueue.Count == 3, "the bytes are queued");
            AssertOk(h.Stack.Send(connection, [4]), 1);
            Assert.Equal([4], await ReadExactly(client.GetStream(), 1));

            AbortiveClose(client);

            await h.WaitUntil(connection, s => s.Reset, "the reset is noticed");
            Assert.Equal(SocketStatus.Disconnected, h.Status(connection));
            Assert.Equal(SocketEvents.Readable | SocketEvents.Error | SocketEvents.HangUp, h.Poll(connection));

            // Bytes that arrived before the reset are still read first.
            var buffer = new byte[8];
            AssertOk(h.Stack.Receive(connection, buffer, peek: false), 3);
            Assert.Equal([1, 2, 3], buffer[..3]);
            AssertErrno(SocketErrno.ECONNRESET, h.Stack.Receive(connection, buffer, peek: false));
            AssertOk(h.Stack.Receive(connection, buffer, peek: false), 0);
            AssertOk(h.Stack.Receive(connection, buffer, peek: false), 0);
            AssertErrno(SocketErrno.EPIPE, h.Stack.Send(connection, [1]));
            Assert.Equal(SocketEvents.Readable | SocketEvents.HangUp, h.Poll(connection));
            AssertOk(h.Stack.Close(connection));
        }
    }

    [Fact]
    public async Task After_a_peer_reset_the_first_send_reports_ECONNRESET()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint);
        using (client)
        {
            AbortiveClose(client);
            await h.WaitUntil(connection, s => s.Reset, "the reset is noticed");

            AssertErrno(SocketErrno.ECONNRESET, h.Stack.Send(connection, [1]));
            AssertErrno(SocketErrno.EPIPE, h.Stack.Send(connection, [1]));
            AssertOk(h.Stack.Receive(connection, new byte[1], peek: false), 0);
            AssertOk(h.Stack.GetOption(connection, SocketOptionNames.SolSocket, SocketOptionNames.SoError, out var error, out _));
            Assert.Equal(0, error);
        }
    }
}
