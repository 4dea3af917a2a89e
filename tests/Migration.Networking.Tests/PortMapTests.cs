using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;
using static Migration.Networking.Tests.StackHarness;

namespace Migration.Networking.Tests;

public class PortMapTests
{
    [Fact]
    public async Task A_mapped_guest_port_listens_on_its_host_port_while_the_guest_sees_its_own()
    {
        var hostPort = FreePort();
        var ports = new PortMap();
        ports.Add(7, new IPEndPoint(IPAddress.Loopback, hostPort));
        using var h = new StackHarness(ports);
        var reported = new List<(int Id, IPEndPoint Host)>();
        h.Stack.Bound += (socket, host) => reported.Add((socket.Id, host));

        var listener = h.NewSocket();
        AssertOk(h.Stack.Bind(listener, Any(7)));
        AssertOk(h.Stack.Listen(listener, 4));
        Assert.Equal([(listener, new IPEndPoint(IPAddress.Loopback, hostPort))], reported);
        Assert.Equal($"127.0.0.1:{hostPort}", h.Read(listener, s => s.HostEndpoint));
        AssertOk(h.Stack.GetName(listener, peer: false, out var local));
        Assert.Equal(Any(7), local);

        using var client = new TcpClient(AddressFamily.InterNetwork);
        using (var timeout = TimeoutSource())
        {
            await client.ConnectAsync(IPAddress.Loopback, hostPort, timeout.Token);
        }

        await h.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the connection is queued");
        var connection = (int)h.Stack.Accept(listener, true, out _).Value;
        AssertOk(h.Stack.GetName(connection, peer: false, out var connectionLocal));
        Assert.Equal(7, connectionLocal!.Port);
        AssertOk(h.Stack.Send(connection, [7]), 1);
        Assert.Equal([7], await ReadExactly(client.GetStream(), 1));
    }

    [Fact]
    public async Task An_unmapped_guest_port_is_the_same_port_on_the_loopback()
    {
        var port = FreePort();
        using var h = new StackHarness();
        var listener = h.NewSocket();
        AssertOk(h.Stack.Bind(listener, Any(port)));
        AssertOk(h.Stack.Listen(listener, 4));
        Assert.Equal($"127.0.0.1:{port}", h.Read(listener, s => s.HostEndpoint));

        using var client = new TcpClient(AddressFamily.InterNetwork);
        using var timeout = TimeoutSource();
        await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        await h.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the connection is queued");
    }
}
