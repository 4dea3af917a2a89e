using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;
using static Migration.Networking.Tests.StackHarness;

namespace Migration.Networking.Tests;

public class UdpTests
{
    private static async Task<UdpReceiveResult> ReceiveAsync(UdpClient client)
    {
        using var timeout = TimeoutSource();
        return await client.ReceiveAsync(timeout.Token);
    }

    [Fact]
    public async Task A_bound_guest_socket_receives_a_datagram_with_its_sender_and_answers_it()
    {
        using var h = new StackHarness();
        var socket = h.NewSocket(VirtualSocketType.Datagram);
        AssertOk(h.Stack.Bind(socket, Loopback(0)));
        Assert.Equal(SocketStatus.Bound, h.Status(socket));
        var port = h.Read(socket, s => s.LocalAddress!.Port);
        Assert.Equal(SocketEvents.Writable, h.Poll(socket));

        var buffer = new byte[100];
        AssertErrno(SocketErrno.EAGAIN, h.Stack.ReceiveFrom(socket, buffer, false, out _));

        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var clientEndpoint = GuestEndpoint.From((IPEndPoint)client.Client.LocalEndPoint!);
        var request = Pattern(77, 31);
        await client.SendAsync(request, new IPEndPoint(IPAddress.Loopback, port));

        await h.WaitUntil(socket, s => s.DatagramQueue.Count == 1, "the datagram arrives");
        Assert.Equal(SocketEvents.Readable | SocketEvents.Writable, h.Poll(socket));

        AssertOk(h.Stack.ReceiveFrom(socket, buffer, true, out var peeked), 77);
        Assert.Equal(clientEndpoint, peeked);
        Assert.Equal(1, h.Read(socket, s => s.DatagramQueue.Count));

        AssertOk(h.Stack.ReceiveFrom(socket, buffer, false, out var from), 77);
        Assert.Equal(request, buffer[..77]);
        Assert.Equal(clientEndpoint, from);
        Assert.Equal(0, h.Read(socket, s => s.DatagramQueue.Count));
        AssertErrno(SocketErrno.EAGAIN, h.Stack.ReceiveFrom(socket, buffer, false, out _));

        var reply = Pattern(1200, 32);
        AssertOk(h.Stack.SendTo(socket, reply, from), reply.Length);
        var answer = await ReceiveAsync(client);
        Assert.Equal(reply, answer.Buffer);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), answer.RemoteEndPoint);
    }

    [Fact]
    public async Task A_datagram_longer_than_the_buffer_is_truncated_and_the_rest_discarded()
    {
        using var h = new StackHarness();
        var socket = h.NewSocket(VirtualSocketType.Datagram, blocking: true);
        AssertOk(h.Stack.Bind(socket, Loopback(0)));
        var port = h.Read(socket, s => s.LocalAddress!.Port);
        var buffer = new byte[10];
        Assert.Equal(SocketCallResult.Block, h.Stack.ReceiveFrom(socket, buffer, false, out _));

        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await client.SendAsync(Pattern(50, 1), new IPEndPoint(IPAddress.Loopback, port));
        await client.SendAsync(Pattern(5, 2), new IPEndPoint(IPAddress.Loopback, port));
        await h.WaitUntil(socket, s => s.DatagramQueue.Count == 2, "both datagrams arrive");

        AssertOk(h.Stack.Receive(socket, buffer, peek: false), 10);
        Assert.Equal(Pattern(50, 1)[..10], buffer);
        AssertOk(h.Stack.Receive(socket, buffer, peek: false), 5);
        Assert.Equal(Pattern(5, 2), buffer[..5]);
    }

    [Fact]
    public async Task An_unbound_socket_gets_a_port_on_its_first_send_and_a_connected_one_sends_without_an_address()
    {
        using var h = new StackHarness();
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var clientEndpoint = GuestEndpoint.From((IPEndPoint)client.Client.LocalEndPoint!);
        var socket = h.NewSocket(VirtualSocketType.Datagram);
        AssertErrno(SocketErrno.EDESTADDRREQ, h.Stack.Send(socket, [1]));

        AssertOk(h.Stack.SendTo(socket, [1, 2, 3], clientEndpoint), 3);
        Assert.Equal(SocketStatus.Bound, h.Status(socket));
        AssertOk(h.Stack.GetName(socket, peer: false, out var local));
        Assert.NotEqual(0, local!.Port);
        var first = await ReceiveAsync(client);
        Assert.Equal([1, 2, 3], first.Buffer);
        Assert.Equal(local.Port, first.RemoteEndPoint.Port);

        AssertOk(h.Stack.Connect(socket, clientEndpoint));
        AssertOk(h.Stack.Send(socket, [4]), 1);
        Assert.Equal([4], (await ReceiveAsync(client)).Buffer);
        AssertOk(h.Stack.GetName(socket, peer: true, out var peer));
        Assert.Equal(clientEndpoint, peer);
    }
}
