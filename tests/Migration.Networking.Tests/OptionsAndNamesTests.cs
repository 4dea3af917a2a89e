using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;
using static Migration.Core.Sockets.SocketOptionNames;
using static Migration.Networking.Tests.StackHarness;

namespace Migration.Networking.Tests;

public class OptionsAndNamesTests
{
    private static (int Value, int Second) Get(StackHarness h, int socket, int level, int name)
    {
        AssertOk(h.Stack.GetOption(socket, level, name, out var value, out var second));
        return (value, second);
    }

    [Theory]
    [InlineData(SolSocket, SoReuseAddr)]
    [InlineData(SolSocket, SoKeepAlive)]
    [InlineData(IpProtoTcp, TcpNoDelay)]
    public void Boolean_options_round_trip(int level, int name)
    {
        using var h = new StackHarness();
        var socket = h.NewSocket();
        Assert.Equal((0, 0), Get(h, socket, level, name));
        AssertOk(h.Stack.SetOption(socket, level, name, 1, 0));
        Assert.Equal((1, 0), Get(h, socket, level, name));
        // Any non-zero value means on, and reads back as 1, as on Linux.
        AssertOk(h.Stack.SetOption(socket, level, name, 7, 0));
        Assert.Equal((1, 0), Get(h, socket, level, name));
        AssertOk(h.Stack.SetOption(socket, level, name, 0, 0));
        Assert.Equal((0, 0), Get(h, socket, level, name));
    }

    [Theory]
    [InlineData(SoSndBuf)]
    [InlineData(SoRcvBuf)]
    public void Buffer_sizes_round_trip_within_their_bounds(int name)
    {
        using var h = new StackHarness();
        var socket = h.NewSocket();
        Assert.Equal((256 * 1024, 0), Get(h, socket, SolSocket, name));
        AssertOk(h.Stack.SetOption(socket, SolSocket, name, 65536, 0));
        Assert.Equal((65536, 0), Get(h, socket, SolSocket, name));
        AssertOk(h.Stack.SetOption(socket, SolSocket, name, 1, 0));
        Assert.Equal((4096, 0), Get(h, socket, SolSocket, name));
        AssertOk(h.Stack.SetOption(socket, SolSocket, name, int.MaxValue, 0));
        Assert.Equal((4 << 20, 0), Get(h, socket, SolSocket, name));
    }

    [Fact]
    public void Linger_round_trips_both_fields()
    {
        using var h = new StackHarness();
        var socket = h.NewSocket();
        Assert.Equal((0, 0), Get(h, socket, SolSocket, SoLinger));
        AssertOk(h.Stack.SetOption(socket, SolSocket, SoLinger, 1, 5));
        Assert.Equal((1, 5), Get(h, socket, SolSocket, SoLinger));
        AssertOk(h.Stack.SetOption(socket, SolSocket, SoLinger, 1, -3));
        Assert.Equal((1, 0), Get(h, socket, SolSocket, SoLinger));
        AssertOk(h.Stack.SetOption(socket, SolSocket, SoLinger, 0, 0));
        Assert.Equal((0, 0), Get(h, socket, SolSocket, SoLinger));
    }

    [Fact]
    public void Read_only_and_unknown_options_are_ENOPROTOOPT()
    {
        using var h = new StackHarness();
        var socket = h.NewSocket();
        Assert.Equal(((int)VirtualSocketType.Stream, 0), Get(h, socket, SolSocket, SoType));
        Assert.Equal(((int)VirtualSocketType.Datagram, 0), Get(h, h.NewSocket(VirtualSocketType.Datagram), SolSocket, SoType));
        Assert.Equal((0, 0), Get(h, socket, SolSocket, SoError));

        AssertErrno(SocketErrno.ENOPROTOOPT, h.Stack.SetOption(socket, SolSocket, SoType, 2, 0));
        AssertErrno(SocketErrno.ENOPROTOOPT, h.Stack.SetOption(socket, SolSocket, SoError, 0, 0));
        AssertErrno(SocketErrno.ENOPROTOOPT, h.Stack.SetOption(socket, SolSocket, 99, 1, 0));
        AssertErrno(SocketErrno.ENOPROTOOPT, h.Stack.GetOption(socket, SolSocket, 99, out _, out _));
        AssertErrno(SocketErrno.ENOPROTOOPT, h.Stack.SetOption(socket, IpProtoTcp, 2, 1, 0));
        AssertErrno(SocketErrno.ENOPROTOOPT, h.Stack.GetOption(socket, IpProtoTcp, 2, out _, out _));
        // Names mean something only at their own level: TCP_NODELAY's number at level 0, SO_REUSEADDR's at IPPROTO_IPV6.
        AssertErrno(SocketErrno.ENOPROTOOPT, h.Stack.SetOption(socket, 0, TcpNoDelay, 1, 0));
        AssertErrno(SocketErrno.ENOPROTOOPT, h.Stack.GetOption(socket, 41, SoReuseAddr, out _, out _));
        Assert.Equal((0, 0), Get(h, socket, IpProtoTcp, TcpNoDelay));
    }

    [Fact]
    public async Task Options_apply_to_a_live_connection_and_accepted_sockets_inherit_the_listeners()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        AssertOk(h.Stack.SetOption(listener, IpProtoTcp, TcpNoDelay, 1, 0));
        AssertOk(h.Stack.SetOption(listener, SolSocket, SoKeepAlive, 1, 0));
        var (connection, client) = await h.Connect(listener, endpoint);
        using (client)
        {
            Assert.Equal((1, 0), Get(h, connection, IpProtoTcp, TcpNoDelay));
            Assert.Equal((1, 0), Get(h, connection, SolSocket, SoKeepAlive));

            // The accepted socket has its own copy.
            AssertOk(h.Stack.SetOption(connection, IpProtoTcp, TcpNoDelay, 0, 0));
            Assert.Equal((1, 0), Get(h, listener, IpProtoTcp, TcpNoDelay));
            AssertOk(h.Stack.SetOption(connection, SolSocket, SoSndBuf, 8192, 0));
            AssertOk(h.Stack.Send(connection, [1, 2]), 2);
            Assert.Equal([1, 2], await ReadExactly(client.GetStream(), 2));
        }
    }

    [Fact]
    public async Task Getsockname_and_getpeername_report_the_guest_view_of_both_ends()
    {
        using var h = new StackHarness();
        var unbound = h.NewSocket();
        AssertOk(h.Stack.GetName(unbound, peer: false, out var none));
        Assert.Equal(Any(0), none);
        AssertErrno(SocketErrno.ENOTCONN, h.Stack.GetName(unbound, peer: true, out var noPeer));
        Assert.Null(noPeer);

        var v6 = h.NewSocket(family: VirtualAddressFamily.IPv6);
        AssertOk(h.Stack.GetName(v6, peer: false, out var none6));
        Assert.Equal(new GuestEndpoint(new byte[16], 0), none6);

        var (listener, endpoint) = h.Listen();
        AssertOk(h.Stack.GetName(listener, peer: false, out var listening));
        Assert.Equal(GuestEndpoint.From(endpoint), listening);
        AssertErrno(SocketErrno.ENOTCONN, h.Stack.GetName(listener, peer: true, out _));

        var (connection, client) = await h.Connect(listener, endpoint);
        using (client)
        {
            AssertOk(h.Stack.GetName(connection, peer: false, out var local));
            Assert.Equal(GuestEndpoint.From(endpoint), local);
            AssertOk(h.Stack.GetName(connection, peer: true, out var peer));
            Assert.Equal(GuestEndpoint.From((IPEndPoint)client.Client.LocalEndPoint!), peer);
            Assert.Equal(VirtualAddressFamily.IPv4, peer!.Family);
            AssertOk(h.Stack.ReceiveFrom(connection, [], false, out var from));
            Assert.Equal(peer, from);
        }
    }

    [Fact]
    public async Task An_IPv6_guest_server_works_on_the_IPv6_loopback()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return;
        }

        using var h = new StackHarness();
        var listener = h.NewSocket(family: VirtualAddressFamily.IPv6);
        AssertOk(h.Stack.Bind(listener, new GuestEndpoint(new byte[16], 0)));
        AssertOk(h.Stack.Listen(listener, 4));
        var port = h.Read(listener, s => s.LocalAddress!.Port);

        using var client = new TcpClient(AddressFamily.InterNetworkV6);
        using (var timeout = TimeoutSource())
        {
            await client.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), timeout.Token);
        }

        await h.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the connection is queued");
        var connection = (int)h.Stack.Accept(listener, true, out var peer).Value;
        Assert.Equal(VirtualAddressFamily.IPv6, peer!.Family);
        Assert.Equal(IPAddress.IPv6Loopback.GetAddressBytes(), peer.Address);
        AssertOk(h.Stack.Send(connection, [6]), 1);
        Assert.Equal([6], await ReadExactly(client.GetStream(), 1));
    }
}
