using System.Net;
using System.Net.Sockets;
using System.Text;
using Migration.Networking.Repair;
using Xunit.Abstractions;

namespace Migration.Networking.Tests.Repair;

/// <summary>
/// Freezing a live connection and re-creating it from its state with real sockets: the peer (an ordinary .NET socket)
/// must see every byte once, in order, and never a FIN or a reset.
/// </summary>
[Collection(RepairCollection.Name)]
public sealed class TcpRepairTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_frozen_connection_with_bytes_in_both_queues_carries_on_in_a_new_socket()
    {
        if (RepairPrivilege.Reason is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return;
        }

        var (client, server) = await ConnectedPairAsync();
        using var clientLifetime = client;
        var serverLocal = (IPEndPoint)server.LocalEndPoint!;
        var serverRemote = (IPEndPoint)server.RemoteEndPoint!;

        // Unread by the server: this sits in its kernel receive queue.
        var request = Encoding.ASCII.GetBytes("request-before-freeze;");
        await client.SendAsync(request);
        await WaitUntil(() => server.Available == request.Length);

        using var networkLock = NetworkLock.Open();
        networkLock.Lock([serverLocal]);
        var reply = Encoding.ASCII.GetBytes("reply-sent-but-never-acknowledged;");
        TcpFreezeResult frozen;
        try
        {
            // The client's acknowledgements are dropped, so the reply stays in the server's send queue as unacknowledged.
            await server.SendAsync(reply);
            var fd = (int)server.Handle;
            TcpRepair.EnterRepair(fd, "test");
            frozen = TcpRepair.Read(fd, serverLocal, serverRemote);
            server.Dispose();

            Assert.Equal(request, frozen.State.ReceiveQueue);
            Assert.Equal(reply, frozen.State.SendQueue);
            Assert.Equal(0, frozen.State.UnsentBytes);
            Assert.Equal(reply.Length, frozen.KernelAccepted);
            Assert.False(frozen.State.FinSent);
            Assert.False(frozen.State.FinReceived);

            // While no socket owns the connection the client's next bytes are dropped, not answered with a reset.
            await client.SendAsync(Encoding.ASCII.GetBytes("sent-in-the-gap;"));
        }
        finally
        {
            networkLock.Unlock([serverLocal]);
        }

        var restoredFd = TcpRepair.Prepare(frozen.State);
        TcpRepair.Release(restoredFd, frozen.State);
        using var restored = new Socket(new SafeSocketHandle(restoredFd, ownsHandle: true));

        await client.SendAsync(Encoding.ASCII.GetBytes("after-restore;"));
        await restored.SendAsync(Encoding.ASCII.GetBytes("second-reply;"));

        var atServer = await ReadExactly(restored, "request-before-freeze;sent-in-the-gap;after-restore;".Length);
        Assert.Equal("request-before-freeze;sent-in-the-gap;after-restore;", atServer);
        var atClient = await ReadExactly(client, "reply-sent-but-never-acknowledged;second-reply;".Length);
        Assert.Equal("reply-sent-but-never-acknowledged;second-reply;", atClient);
        Assert.Empty(networkLock.Locked());
    }

    [Fact]
    public async Task A_connection_whose_peer_had_closed_keeps_the_end_of_stream()
    {
        if (RepairPrivilege.Reason is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return;
        }

        var (client, server) = await ConnectedPairAsync();
        using var clientLifetime = client;
        await client.SendAsync(Encoding.ASCII.GetBytes("last words"));
        client.Shutdown(SocketShutdown.Send);
        await WaitUntil(() => server.Available == 10 && TcpState(server) == 8);

        var fd = (int)server.Handle;
        TcpRepair.EnterRepair(fd, "test");
        var frozen = TcpRepair.Read(fd, (IPEndPoint)server.LocalEndPoint!, (IPEndPoint)server.RemoteEndPoint!);
        server.Dispose();
        Assert.True(frozen.State.FinReceived);
        Assert.Equal("last words", Encoding.ASCII.GetString(frozen.State.ReceiveQueue));

        var restoredFd = TcpRepair.Prepare(frozen.State);
        TcpRepair.Release(restoredFd, frozen.State);
        using var restored = new Socket(new SafeSocketHandle(restoredFd, ownsHandle: true));
        Assert.Equal("last words", await ReadExactly(restored, 10));

        // The half-closed client still reads what the server says, then the server's FIN.
        await restored.SendAsync(Encoding.ASCII.GetBytes("goodbye"));
        restored.Shutdown(SocketShutdown.Send);
        Assert.Equal("goodbye", await ReadExactly(client, 7));
        var buffer = new byte[16];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token));
    }

    [Fact]
    public void Restoring_onto_an_address_this_host_does_not_have_names_the_step_and_the_address()
    {
        if (RepairPrivilege.Reason is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return;
        }

        var state = new Core.Sockets.TcpConnectionState { Local = "192.0.2.1:4000", Remote = "127.0.0.1:5000", SendSequence = 1000, ReceiveSequence = 2000 };
        var e = Assert.Throws<TcpRepairException>(() => TcpRepair.Prepare(state));
        Assert.Contains("binding 192.0.2.1:4000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_free_bind_a_connection_is_prepared_on_an_address_that_arrives_later()
    {
        if (RepairPrivilege.Reason is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return;
        }

        var state = new Core.Sockets.TcpConnectionState { Local = "192.0.2.1:4000", Remote = "127.0.0.1:5000", SendSequence = 1000, ReceiveSequence = 2000 };
        var fd = TcpRepair.Prepare(state, freeBind: true);
        try
        {
            Span<byte> info = stackalloc byte[8];
            Assert.True(LinuxSockets.GetBytes(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpInfo, info) > 0);
            Assert.Equal(1, info[0]); // TCP_ESTABLISHED, with no handshake and no local address yet
        }
        finally
        {
            LinuxSockets.Close(fd);
        }
    }

    /// <summary>A loopback connection: the client end, and the server end the test freezes (and disposes itself).</summary>
    private static async Task<(Socket Client, Socket Server)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        return (client, await listener.AcceptAsync());
    }

    private static int TcpState(Socket socket)
    {
        Span<byte> info = stackalloc byte[8];
        return LinuxSockets.GetBytes((int)socket.Handle, LinuxSockets.IpProtoTcp, LinuxSockets.TcpInfo, info) > 0 ? info[0] : -1;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(1, timeout.Token);
        }
    }

    private static async Task<string> ReadExactly(Socket socket, int count)
    {
        var buffer = new byte[count];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = 0;
        while (read < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                throw new IOException($"end of stream after {read} of {count} bytes: {Encoding.ASCII.GetString(buffer, 0, read)}");
            }

            read += n;
        }

        return Encoding.ASCII.GetString(buffer);
    }
}
