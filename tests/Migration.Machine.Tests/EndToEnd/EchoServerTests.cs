using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Migration.Machine.Tests.EndToEnd;

/// <summary>The echo guest answers netcat byte for byte, over TCP and UDP, with many clients at once.</summary>
[Trait("Category", "EndToEnd")]
public class EchoServerTests
{
    [Fact]
    public async Task Nc_gets_a_one_mebibyte_payload_back_byte_for_byte()
    {
        var nc = ExternalTool.Require("nc", "netcat-openbsd");
        await using var server = await GuestServer.StartAsync("echo", 7);
        var payload = new byte[1 << 20];
        new Random(11).NextBytes(payload);

        var (code, echoed, _) = await ExternalTool.RunBinaryAsync(nc,
            ["-N", "127.0.0.1", server.HostPort.ToString(CultureInfo.InvariantCulture)], payload, TimeSpan.FromSeconds(60));

        Assert.Equal(0, code);
        Assert.Equal(payload.Length, echoed.Length);
        Assert.True(payload.AsSpan().SequenceEqual(echoed), "echoed bytes differ from the payload");
    }

    [Fact]
    public async Task Two_hundred_concurrent_nc_clients_each_get_their_own_bytes()
    {
        var nc = ExternalTool.Require("nc", "netcat-openbsd");
        await using var server = await GuestServer.StartAsync("echo", 7);
        var port = server.HostPort.ToString(CultureInfo.InvariantCulture);

        var clients = Enumerable.Range(0, 200).Select(async i =>
        {
            var payload = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"client {i:D3} says hello; ", 200)));
            var (code, echoed, _) = await ExternalTool.RunBinaryAsync(nc, ["-N", "127.0.0.1", port], payload, TimeSpan.FromSeconds(120));
            return (i, code, same: payload.AsSpan().SequenceEqual(echoed));
        }).ToArray();

        foreach (var (i, code, same) in await Task.WhenAll(clients))
        {
            Assert.True(code == 0 && same, $"client {i}: exit {code}, echo {(same ? "ok" : "differs")}");
        }
    }

    [Fact]
    public async Task Two_hundred_open_connections_are_served_at_the_same_time()
    {
        await using var server = await GuestServer.StartAsync("echo", 7);
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, server.HostPort);
                sockets.Add(socket);
            }

            // Every connection is open at once; each one's bytes come back on that connection only.
            for (var i = 0; i < sockets.Count; i++)
            {
                await sockets[i].SendAsync(BitConverter.GetBytes(i));
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            for (var i = 0; i < sockets.Count; i++)
            {
                var buffer = new byte[4];
                var got = 0;
                while (got < 4)
                {
                    var n = await sockets[i].ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, timeout.Token);
                    Assert.NotEqual(0, n);
                    got += n;
                }

                Assert.Equal(i, BitConverter.ToInt32(buffer));
            }
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Udp_datagrams_are_echoed_to_their_sender()
    {
        var nc = ExternalTool.Require("nc", "netcat-openbsd");
        await using var server = await GuestServer.StartAsync("echo", 7);
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var udpPort = await server.UdpHostPortAsync();
        var target = new IPEndPoint(IPAddress.Loopback, udpPort);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 20; i++)
        {
            var payload = System.Text.Encoding.ASCII.GetBytes($"datagram {i}");
            await client.SendAsync(payload, target, timeout.Token);
            var reply = await client.ReceiveAsync(timeout.Token);
            Assert.Equal(payload, reply.Buffer);
            Assert.Equal(target, reply.RemoteEndPoint);
        }

        var (code, output, _) = await ExternalTool.RunAsync(nc, ["-u", "-w", "1", "127.0.0.1", udpPort.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(20), System.Text.Encoding.ASCII.GetBytes("hi from nc\n"));
        Assert.Equal(0, code);
        Assert.Equal("hi from nc\n", output);
    }
}
