using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;
using static Migration.Networking.Tests.StackHarness;

namespace Migration.Networking.Tests;

/// <summary>
/// Capture of a socket table and its restore into a fresh stack over a new plain backend, as a resumed checkpoint does:
/// listeners and bound sockets get host endpoints again, connections whose host sockets are gone are reset.
/// </summary>
public class SocketTableRestoreTests
{
    private static VirtualSocket Record(int id, VirtualSocketType type, SocketStatus status, GuestEndpoint? local = null, GuestEndpoint? remote = null)
    {
        var socket = new VirtualSocket
        {
            Id = id,
            Type = type,
            Protocol = type == VirtualSocketType.Stream ? VirtualSocketProtocol.Tcp : VirtualSocketProtocol.Udp,
            Family = VirtualAddressFamily.IPv4,
            Status = status,
            LocalAddress = local,
            RemoteAddress = remote,
            Blocking = false,
        };
        socket.Events = socket.ComputeEvents();
        return socket;
    }

    private static VirtualSocket PendingConnection() =>
        Record(-1, VirtualSocketType.Stream, SocketStatus.Connected, Loopback(5000), Loopback(40000));

    private static async Task<UdpReceiveResult> ReceiveAsync(UdpClient client)
    {
        using var timeout = TimeoutSource();
        return await client.ReceiveAsync(timeout.Token);
    }

    private static VirtualSocket Captured(IReadOnlyList<VirtualSocket> table, int id) => Assert.Single(table, s => s.Id == id);

    [Fact]
    public async Task A_restored_listener_takes_new_clients_on_its_free_port_and_a_connection_reads_its_unread_bytes_then_is_reset()
    {
        IReadOnlyList<VirtualSocket> table;
        int listener;
        int connection;
        IPEndPoint endpoint;
        TcpClient acceptedClient;
        using var pendingClient = new TcpClient(AddressFamily.InterNetwork);
        using (var old = new StackHarness())
        {
            (listener, endpoint) = old.Listen();
            (connection, acceptedClient) = await old.Connect(listener, endpoint);
            await acceptedClient.GetStream().WriteAsync(Pattern(100, 1));
            await old.WaitUntil(connection, s => s.ReceiveQueue.Count == 100, "the client's bytes are queued");
            using (var timeout = TimeoutSource())
            {
                await pendingClient.ConnectAsync(endpoint, timeout.Token);
            }

            await old.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the second client waits for accept");
            table = old.Stack.CaptureTable();
        }

        using var _ = acceptedClient;
        Assert.Single(Captured(table, listener).ConnectionQueue);

        using var h = new StackHarness();
        var bound = new List<(int Id, IPEndPoint Host)>();
        h.Stack.Bound += (socket, host) => bound.Add((socket.Id, host));
        var rebindings = h.Stack.RestoreTable(table);

        // The old stack is gone and with it its listener: the port is free, so the guest's clients find it where it was.
        var rebinding = Assert.Single(rebindings);
        Assert.Equal(listener, rebinding.Id);
        Assert.Equal(VirtualSocketProtocol.Tcp, rebinding.Protocol);
        Assert.Equal(Loopback(endpoint.Port), rebinding.Guest);
        Assert.Equal(endpoint, rebinding.Previous);
        Assert.Equal(endpoint, rebinding.Current);
        Assert.False(rebinding.Moved);
        Assert.Equal([(listener, endpoint)], bound);
        Assert.Equal(SocketStatus.Listening, h.Status(listener));
        Assert.Equal(16, h.Read(listener, s => s.Backlog));
        Assert.Equal(0, h.Read(listener, s => s.ConnectionQueue.Count));

        Assert.Equal(SocketStatus.Disconnected, h.Status(connection));
        Assert.Null(h.Read(connection, s => s.HostEndpoint));
        Assert.Equal(SocketEvents.Readable | SocketEvents.HangUp | SocketEvents.Error, h.Poll(connection));
        var buffer = new byte[300];
        AssertOk(h.Stack.Receive(connection, buffer, peek: false), 100);
        Assert.Equal(Pattern(100, 1), buffer[..100]);
        AssertErrno(SocketErrno.ECONNRESET, h.Stack.Receive(connection, buffer, peek: false));
        AssertErrno(SocketErrno.EPIPE, h.Stack.Send(connection, [1, 2, 3]));
        AssertOk(h.Stack.Receive(connection, buffer, peek: false), 0);

        using var client = new TcpClient(AddressFamily.InterNetwork);
        using (var timeout = TimeoutSource())
        {
            await client.ConnectAsync(rebinding.Current, timeout.Token);
        }

        await h.WaitUntil(listener, s => s.ConnectionQueue.Count > 0, "the new client is queued");
        var accepted = h.Stack.Accept(listener, nonBlockingResult: true, out var peer);
        Assert.False(accepted.Blocked);
        // The lowest free handle: the restored table kept 0 and 1.
        Assert.Equal(2, accepted.Value);
        Assert.Equal(GuestEndpoint.From((IPEndPoint)client.Client.LocalEndPoint!), peer);
        Assert.Equal(0, h.Read(listener, s => s.ConnectionQueue.Count));

        await client.GetStream().WriteAsync(Pattern(64, 2));
        Assert.Equal(Pattern(64, 2), await h.ReceiveExactly((int)accepted.Value, 64));
        AssertOk(h.Stack.Send((int)accepted.Value, Pattern(32, 3)), 32);
        Assert.Equal(Pattern(32, 3), await ReadExactly(client.GetStream(), 32));
    }

    [Fact]
    public async Task A_listener_whose_port_the_old_stack_still_holds_moves_to_a_new_port_and_says_so()
    {
        using var old = new StackHarness();
        var (listener, endpoint) = old.Listen();
        var table = old.Stack.CaptureTable();

        using var h = new StackHarness();
        IPEndPoint? reported = null;
        h.Stack.Bound += (_, host) => reported = host;
        var rebinding = Assert.Single(h.Stack.RestoreTable(table));

        Assert.True(rebinding.Moved);
        Assert.Equal(endpoint, rebinding.Previous);
        Assert.Equal(IPAddress.Loopback, rebinding.Current.Address);
        Assert.NotEqual(endpoint.Port, rebinding.Current.Port);
        Assert.Equal(rebinding.Current, reported);
        Assert.Equal(rebinding.Current.ToString(), h.Read(listener, s => s.HostEndpoint));
        // The guest's view does not move with the host port.
        AssertOk(h.Stack.GetName(listener, peer: false, out var local));
        Assert.Equal(Loopback(endpoint.Port), local);

        using var client = new TcpClient(AddressFamily.InterNetwork);
        using var oldClient = new TcpClient(AddressFamily.InterNetwork);
        using (var timeout = TimeoutSource())
        {
            await client.ConnectAsync(rebinding.Current, timeout.Token);
            await oldClient.ConnectAsync(endpoint, timeout.Token);
        }

        await h.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the new stack's listener queues its client");
        await old.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the old stack's listener still queues its own");
    }

    [Fact]
    public async Task A_port_the_port_map_leaves_to_the_host_gets_its_previous_host_port_back()
    {
        PortMap Ports()
        {
            var ports = new PortMap();
            ports.Add(7, new IPEndPoint(IPAddress.Loopback, 0));
            return ports;
        }

        IReadOnlyList<VirtualSocket> table;
        int hostPort;
        using (var old = new StackHarness(Ports()))
        {
            var listener = old.NewSocket();
            AssertOk(old.Stack.Bind(listener, Any(7)));
            AssertOk(old.Stack.Listen(listener, 3));
            hostPort = IPEndPoint.Parse(old.Read(listener, s => s.HostEndpoint)!).Port;
            table = old.Stack.CaptureTable();
        }

        using var h = new StackHarness(Ports());
        var rebinding = Assert.Single(h.Stack.RestoreTable(table));
        Assert.Equal(Any(7), rebinding.Guest);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, hostPort), rebinding.Current);
        Assert.False(rebinding.Moved);
        Assert.Equal(3, h.Read(rebinding.Id, s => s.Backlog));

        using var client = new TcpClient(AddressFamily.InterNetwork);
        using (var timeout = TimeoutSource())
        {
            await client.ConnectAsync(rebinding.Current, timeout.Token);
        }

        await h.WaitUntil(rebinding.Id, s => s.ConnectionQueue.Count == 1, "the client is queued");
    }

    [Fact]
    public async Task A_bound_udp_socket_keeps_its_datagrams_in_order_with_their_senders_and_receives_new_ones()
    {
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var clientEndpoint = GuestEndpoint.From((IPEndPoint)client.Client.LocalEndPoint!);
        IReadOnlyList<VirtualSocket> table;
        int socket;
        int port;
        using (var old = new StackHarness())
        {
            socket = old.NewSocket(VirtualSocketType.Datagram);
            AssertOk(old.Stack.Bind(socket, Loopback(0)));
            port = old.Read(socket, s => s.LocalAddress!.Port);
            for (var i = 0; i < 3; i++)
            {
                await client.SendAsync(Pattern(10 + i, i), new IPEndPoint(IPAddress.Loopback, port));
            }

            await old.WaitUntil(socket, s => s.DatagramQueue.Count == 3, "three datagrams are queued");
            table = old.Stack.CaptureTable();
        }

        using var h = new StackHarness();
        var rebinding = Assert.Single(h.Stack.RestoreTable(table));
        Assert.Equal(VirtualSocketProtocol.Udp, rebinding.Protocol);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), rebinding.Current);
        Assert.Equal(SocketStatus.Bound, h.Status(socket));
        Assert.Equal(SocketEvents.Readable | SocketEvents.Writable, h.Poll(socket));

        var buffer = new byte[100];
        for (var i = 0; i < 3; i++)
        {
            AssertOk(h.Stack.ReceiveFrom(socket, buffer, false, out var from), 10 + i);
            Assert.Equal(Pattern(10 + i, i), buffer[..(10 + i)]);
            Assert.Equal(clientEndpoint, from);
        }

        AssertErrno(SocketErrno.EAGAIN, h.Stack.ReceiveFrom(socket, buffer, false, out _));

        await client.SendAsync(Pattern(20, 9), rebinding.Current);
        await h.WaitUntil(socket, s => s.DatagramQueue.Count == 1, "the new datagram arrives");
        AssertOk(h.Stack.ReceiveFrom(socket, buffer, false, out var sender), 20);
        Assert.Equal(Pattern(20, 9), buffer[..20]);
        Assert.Equal(clientEndpoint, sender);

        AssertOk(h.Stack.SendTo(socket, Pattern(5, 4), clientEndpoint), 5);
        var answer = await ReceiveAsync(client);
        Assert.Equal(Pattern(5, 4), answer.Buffer);
        Assert.Equal(rebinding.Current, answer.RemoteEndPoint);
    }

    [Fact]
    public async Task A_udp_socket_that_got_its_port_from_its_first_send_stays_on_the_wildcard()
    {
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var clientEndpoint = GuestEndpoint.From((IPEndPoint)client.Client.LocalEndPoint!);
        IReadOnlyList<VirtualSocket> table;
        int socket;
        int port;
        using (var old = new StackHarness())
        {
            socket = old.NewSocket(VirtualSocketType.Datagram);
            AssertOk(old.Stack.SendTo(socket, [1], clientEndpoint), 1);
            port = old.Read(socket, s => s.LocalAddress!.Port);
            Assert.Equal($"0.0.0.0:{port}", old.Read(socket, s => s.HostEndpoint));
            await ReceiveAsync(client);
            table = old.Stack.CaptureTable();
        }

        using var h = new StackHarness();
        var rebinding = Assert.Single(h.Stack.RestoreTable(table));
        Assert.Equal(new IPEndPoint(IPAddress.Any, port), rebinding.Current);
        Assert.False(rebinding.Moved);

        AssertOk(h.Stack.SendTo(socket, [2], clientEndpoint), 1);
        var answer = await ReceiveAsync(client);
        Assert.Equal([2], answer.Buffer);
        Assert.Equal(port, answer.RemoteEndPoint.Port);
    }

    [Fact]
    public async Task A_bound_tcp_socket_is_bound_again_and_connects_from_its_port()
    {
        IReadOnlyList<VirtualSocket> table;
        int socket;
        int port;
        using (var old = new StackHarness())
        {
            socket = old.NewSocket();
            AssertOk(old.Stack.Bind(socket, Loopback(0)));
            port = old.Read(socket, s => s.LocalAddress!.Port);
            table = old.Stack.CaptureTable();
        }

        using var h = new StackHarness();
        var rebinding = Assert.Single(h.Stack.RestoreTable(table));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), rebinding.Current);
        Assert.Equal(SocketStatus.Bound, h.Status(socket));

        var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        try
        {
            AssertErrno(SocketErrno.EINPROGRESS, h.Stack.Connect(socket, Loopback(((IPEndPoint)server.LocalEndpoint).Port)));
            using var timeout = TimeoutSource();
            using var peer = await server.AcceptTcpClientAsync(timeout.Token);
            Assert.Equal(rebinding.Current, peer.Client.RemoteEndPoint);
            await h.WaitUntil(socket, s => s.Status == SocketStatus.Connected, "the connect completes");
        }
        finally
        {
            server.Stop();
        }
    }

    [Fact]
    public void Connections_are_reset_connects_fail_and_unconnected_sockets_stay_as_they_were()
    {
        var sending = Record(3, VirtualSocketType.Stream, SocketStatus.Sending, Loopback(5000), Loopback(6000));
        sending.SendQueue.Enqueue(Pattern(50, 1));
        sending.ReceiveQueue.Enqueue(Pattern(20, 2));
        sending.HostEndpoint = "127.0.0.1:5000";
        var shut = Record(4, VirtualSocketType.Stream, SocketStatus.Shutdown, Loopback(5001), Loopback(6001));
        shut.WriteShut = true;
        var connecting = Record(6, VirtualSocketType.Stream, SocketStatus.Connecting, remote: Loopback(6002));
        connecting.Blocking = true;
        connecting.ConnectInProgress = true;
        var connectingNonBlocking = Record(7, VirtualSocketType.Stream, SocketStatus.Connecting, remote: Loopback(6003));
        var unconnected = Record(9, VirtualSocketType.Stream, SocketStatus.Unconnected);
        unconnected.Options.NoDelay = true;
        unconnected.Options.SendBufferSize = 8192;
        unconnected.Blocking = true;

        using var h = new StackHarness();
        var bound = 0;
        h.Stack.Bound += (_, _) => bound++;
        var rebindings = h.Stack.RestoreTable([sending, shut, connecting, connectingNonBlocking, unconnected]);

        Assert.Empty(rebindings);
        Assert.Equal(0, bound);
        Assert.Equal([3, 4, 6, 7, 9], h.Stack.Snapshot().Select(s => s.Id));

        Assert.Equal(SocketStatus.Disconnected, h.Status(3));
        Assert.Equal(0, h.Read(3, s => s.SendQueue.Count));
        Assert.Null(h.Read(3, s => s.HostEndpoint));
        Assert.Equal(SocketEvents.Readable | SocketEvents.HangUp | SocketEvents.Error, h.Poll(3));
        var buffer = new byte[100];
        AssertOk(h.Stack.Receive(3, buffer, peek: false), 20);
        Assert.Equal(Pattern(20, 2), buffer[..20]);
        AssertErrno(SocketErrno.ECONNRESET, h.Stack.Receive(3, buffer, peek: false));
        AssertOk(h.Stack.Receive(3, buffer, peek: false), 0);

        // A send is the first call to see the reset here, so it gets ECONNRESET, and EPIPE after.
        AssertErrno(SocketErrno.ECONNRESET, h.Stack.Send(4, [1]));
        AssertErrno(SocketErrno.EPIPE, h.Stack.Send(4, [1]));
        Assert.Equal(SocketEvents.Readable | SocketEvents.HangUp, h.Poll(4));

        // The guest re-issues its blocking connect after resume and collects the failure.
        Assert.Equal(SocketEvents.HangUp | SocketEvents.Error, h.Poll(6));
        AssertErrno(SocketErrno.ECONNREFUSED, h.Stack.Connect(6, Loopback(6002)));
        AssertOk(h.Stack.GetOption(7, SocketOptionNames.SolSocket, SocketOptionNames.SoError, out var error, out _));
        Assert.Equal(SocketErrno.ECONNREFUSED, error);

        Assert.Equal(SocketStatus.Unconnected, h.Status(9));
        Assert.True(h.Read(9, s => s.Blocking));
        AssertOk(h.Stack.GetOption(9, SocketOptionNames.IpProtoTcp, SocketOptionNames.TcpNoDelay, out var noDelay, out _));
        Assert.Equal(1, noDelay);
        AssertOk(h.Stack.GetOption(9, SocketOptionNames.SolSocket, SocketOptionNames.SoSndBuf, out var sendBuffer, out _));
        Assert.Equal(8192, sendBuffer);

        // Handles the table left free are handed out lowest first.
        Assert.Equal([0, 1, 2, 5], Enumerable.Range(0, 4).Select(_ => h.NewSocket()));
    }

    [Fact]
    public async Task A_capture_is_a_deep_copy_that_later_host_io_and_calls_do_not_reach()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint);
        using var _ = client;
        await client.GetStream().WriteAsync(Pattern(10, 1));
        await h.WaitUntil(connection, s => s.ReceiveQueue.Count == 10, "10 bytes are queued");

        var table = h.Stack.CaptureTable();
        var copy = Captured(table, connection);
        Assert.NotSame(h.Stack.Find(connection), copy);
        Assert.Null(copy.Host);
        Assert.NotNull(h.Read(connection, s => s.Host));

        await client.GetStream().WriteAsync(Pattern(20, 2));
        await h.WaitUntil(connection, s => s.ReceiveQueue.Count == 30, "20 more bytes are queued");
        AssertOk(h.Stack.SetOption(connection, SocketOptionNames.IpProtoTcp, SocketOptionNames.TcpNoDelay, 1, 0));
        AssertOk(h.Stack.Close(listener));

        Assert.Equal(Pattern(10, 1), copy.ReceiveQueue.ToArray());
        Assert.False(copy.Options.NoDelay);
        Assert.Equal(SocketStatus.Listening, Captured(table, listener).Status);

        copy.ReceiveQueue.Clear();
        Assert.Equal(30, h.Read(connection, s => s.ReceiveQueue.Count));
    }

    [Fact]
    public void Restore_works_on_copies_so_one_table_can_be_restored_twice()
    {
        var listener = Record(0, VirtualSocketType.Stream, SocketStatus.Listening, Loopback(0));
        listener.Backlog = 2;
        var connected = Record(1, VirtualSocketType.Stream, SocketStatus.Connected, Loopback(5000), Loopback(6000));
        connected.SendQueue.Enqueue(Pattern(7, 1));
        IReadOnlyList<VirtualSocket> table = [listener, connected];

        using var first = new StackHarness();
        using var second = new StackHarness();
        var a = Assert.Single(first.Stack.RestoreTable(table));
        var b = Assert.Single(second.Stack.RestoreTable(table));

        Assert.NotEqual(a.Current, b.Current);
        Assert.NotSame(first.Stack.Find(0), second.Stack.Find(0));
        Assert.NotSame(listener, first.Stack.Find(0));
        Assert.Null(listener.Host);
        Assert.Null(listener.HostEndpoint);
        Assert.Equal(SocketStatus.Connected, connected.Status);
        Assert.Equal(7, connected.SendQueue.Count);
        Assert.False(connected.Reset);
    }

    [Fact]
    public void A_stack_that_already_has_sockets_refuses_a_table()
    {
        using var h = new StackHarness();
        var existing = h.NewSocket();
        Assert.Throws<InvalidOperationException>(() => h.Stack.RestoreTable([Record(5, VirtualSocketType.Stream, SocketStatus.Unconnected)]));
        Assert.Equal([existing], h.Stack.Snapshot().Select(s => s.Id));
    }

    [Fact]
    public async Task A_socket_that_cannot_be_bound_even_on_a_new_port_undoes_the_whole_restore()
    {
        var port = FreePort();
        var ports = new PortMap();
        // TEST-NET-1 is on no host interface: nothing can bind it, whatever the port.
        ports.Add(7, new IPEndPoint(IPAddress.Parse("192.0.2.1"), 0));
        var listener = Record(0, VirtualSocketType.Stream, SocketStatus.Listening, Loopback(port));
        listener.Backlog = 4;
        var udp = Record(1, VirtualSocketType.Datagram, SocketStatus.Bound, Any(7));

        using var h = new StackHarness(ports);
        var bound = 0;
        h.Stack.Bound += (_, _) => bound++;
        var e = Assert.Throws<SocketRebindException>(() => h.Stack.RestoreTable([listener, udp]));

        Assert.Equal("socket 1: guest udp 0.0.0.0:7 cannot be re-bound: host 192.0.2.1:0 failed with errno 99", e.Message);
        Assert.Equal(1, e.SocketId);
        Assert.Equal(SocketErrno.EADDRNOTAVAIL, e.Errno);
        Assert.Equal(0, h.Stack.Count);
        Assert.Equal(0, bound);

        // The listener restored before the failure was closed again: its port refuses connections.
        using var client = new TcpClient(AddressFamily.InterNetwork);
        using var timeout = TimeoutSource();
        var refused = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, port, timeout.Token).AsTask());
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    /// <summary>A table that restores cleanly; each sanity case breaks one thing in it.</summary>
    private static List<VirtualSocket?> ValidTable()
    {
        var listener = Record(0, VirtualSocketType.Stream, SocketStatus.Listening, Loopback(0));
        listener.Backlog = 4;
        listener.ConnectionQueue.Add(PendingConnection());
        var udp = Record(1, VirtualSocketType.Datagram, SocketStatus.Bound, Loopback(0));
        udp.DatagramQueue.Add(new Datagram(Loopback(9), [1, 2, 3]));
        var connected = Record(2, VirtualSocketType.Stream, SocketStatus.Receiving, Loopback(5000), Loopback(6000));
        connected.ReceiveQueue.Enqueue([1, 2, 3]);
        return [listener, udp, connected];
    }

    private const int SanityMaxSockets = 8;

    [Fact]
    public void The_table_the_sanity_cases_start_from_restores()
    {
        using var h = new StackHarness(maxSockets: SanityMaxSockets);
        Assert.Equal(2, h.Stack.RestoreTable(ValidTable()!).Count);
        Assert.Equal(3, h.Stack.Count);
    }

    [Theory]
    [InlineData("duplicate id", "socket 1: Id ")]
    [InlineData("negative id", "socket -1: Id ")]
    [InlineData("id beyond the table", "socket 8: Id ")]
    [InlineData("too many sockets", "socket table: Count ")]
    [InlineData("null record", "socket table: [1] ")]
    [InlineData("future version", "socket 2: Version ")]
    [InlineData("unknown type", "socket 1: Type ")]
    [InlineData("unknown protocol", "socket 1: Protocol ")]
    [InlineData("unknown family", "socket 1: Family ")]
    [InlineData("unknown status", "socket 2: Status ")]
    [InlineData("terminated", "socket 2: Status ")]
    [InlineData("stream over udp", "socket 2: Protocol ")]
    [InlineData("datagram socket listening", "socket 1: Status ")]
    [InlineData("more bytes than capacity", "socket 2: ReceiveQueue ")]
    [InlineData("capacity beyond the limit", "socket 2: SendQueue ")]
    [InlineData("zero capacity", "socket 2: SendQueue ")]
    [InlineData("too many datagrams", "socket 1: DatagramQueue ")]
    [InlineData("datagram without payload", "socket 1: DatagramQueue[0] ")]
    [InlineData("too many connections", "socket 0: ConnectionQueue ")]
    [InlineData("connections on a connected socket", "socket 2: ConnectionQueue ")]
    [InlineData("listener without address", "socket 0: LocalAddress ")]
    [InlineData("bound udp without address", "socket 1: LocalAddress ")]
    [InlineData("address of the other family", "socket 2: RemoteAddress ")]
    [InlineData("pending connection with connections", "socket 0: ConnectionQueue[0].ConnectionQueue ")]
    [InlineData("pending connection with datagrams", "socket 0: ConnectionQueue[0].DatagramQueue ")]
    [InlineData("pending connection of a future version", "socket 0: ConnectionQueue[0].Version ")]
    [InlineData("negative errno", "socket 2: PendingError ")]
    [InlineData("negative buffer size", "socket 2: Options.SendBufferSize ")]
    [InlineData("missing options", "socket 2: Options ")]
    [InlineData("listener without backlog", "socket 0: Backlog ")]
    public void A_table_that_fails_the_sanity_pass_is_refused_with_the_socket_and_field_and_nothing_is_applied(string broken, string expected)
    {
        var table = ValidTable();
        var listener = table[0]!;
        var udp = table[1]!;
        var connected = table[2]!;
        switch (broken)
        {
            case "duplicate id": connected.Id = 1; break;
            case "negative id": udp.Id = -1; break;
            case "id beyond the table": udp.Id = SanityMaxSockets; break;
            case "too many sockets":
                table.AddRange(Enumerable.Range(3, SanityMaxSockets).Select(id => Record(id, VirtualSocketType.Stream, SocketStatus.Unconnected)));
                break;
            case "null record": table[1] = null; break;
            case "future version": connected.Version = VirtualSocket.FormatVersion + 1; break;
            case "unknown type": udp.Type = (VirtualSocketType)3; break;
            case "unknown protocol": udp.Protocol = (VirtualSocketProtocol)99; break;
            case "unknown family": udp.Family = (VirtualAddressFamily)99; break;
            case "unknown status": connected.Status = (SocketStatus)42; break;
            case "terminated": connected.Status = SocketStatus.Terminated; break;
            case "stream over udp": connected.Protocol = VirtualSocketProtocol.Udp; break;
            case "datagram socket listening": udp.Status = SocketStatus.Listening; break;
            case "more bytes than capacity": connected.ReceiveQueue.Capacity = 2; break;
            case "capacity beyond the limit": connected.SendQueue = new ByteQueue(VirtualSocketStack.MaxQueueCapacity + 1); break;
            case "zero capacity": connected.SendQueue.Capacity = 0; break;
            case "too many datagrams":
                udp.DatagramQueue.AddRange(Enumerable.Range(0, VirtualSocket.MaxDatagramQueue).Select(_ => new Datagram(Loopback(9), [])));
                break;
            case "datagram without payload": udp.DatagramQueue[0] = new Datagram(Loopback(9), null!); break;
            case "too many connections":
                listener.ConnectionQueue.AddRange(Enumerable.Range(0, VirtualSocket.MaxConnectionQueue).Select(_ => PendingConnection()));
                break;
            case "connections on a connected socket": connected.ConnectionQueue.Add(PendingConnection()); break;
            case "listener without address": listener.LocalAddress = null; break;
            case "bound udp without address": udp.LocalAddress = null; break;
            case "address of the other family": connected.RemoteAddress = new GuestEndpoint(new byte[16], 80); break;
            case "pending connection with connections": listener.ConnectionQueue[0].ConnectionQueue.Add(PendingConnection()); break;
            case "pending connection with datagrams": listener.ConnectionQueue[0].DatagramQueue.Add(new Datagram(Loopback(9), [1])); break;
            case "pending connection of a future version": listener.ConnectionQueue[0].Version = 99; break;
            case "negative errno": connected.PendingError = -5; break;
            case "negative buffer size": connected.Options.SendBufferSize = -1; break;
            case "missing options": connected.Options = null!; break;
            case "listener without backlog": listener.Backlog = 0; break;
            default: throw new ArgumentOutOfRangeException(nameof(broken), broken, "no such case");
        }

        using var h = new StackHarness(maxSockets: SanityMaxSockets);
        var bound = 0;
        h.Stack.Bound += (_, _) => bound++;
        var e = Assert.Throws<SocketTableException>(() => h.Stack.RestoreTable(table!));

        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(expected.Split(": ")[^1].TrimEnd(), e.Field);
        Assert.Equal(expected.StartsWith("socket table", StringComparison.Ordinal) ? null : int.Parse(expected.Split(' ', ':')[1], System.Globalization.CultureInfo.InvariantCulture), e.SocketId);
        Assert.Equal(0, h.Stack.Count);
        Assert.Equal(0, bound);
        // Refused means untouched: the same stack still takes a good table.
        Assert.Equal(2, h.Stack.RestoreTable(ValidTable()!).Count);
    }
}
