using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Migration.Core.Sockets;
using Migration.Networking.Relay;
using static Migration.Networking.Tests.StackHarness;

namespace Migration.Networking.Tests.Relay;

/// <summary>
/// A guest connection carried by the relay is detached from one host and re-attached from another (or the same one,
/// as a rolled-back migration does) while bytes are in flight both ways: the client and the guest each get every byte
/// exactly once, in order, and the client never notices.
/// </summary>
public sealed class RelayContinuityTests : IAsyncDisposable
{
    private const string Vm = "vm-under-test";

    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);
    private readonly RelayServer _relay;

    public RelayContinuityTests()
    {
        _relay = RelayServer.Start(new IPEndPoint(IPAddress.Loopback, 0), _secret);
    }

    public ValueTask DisposeAsync() => _relay.DisposeAsync();

    private StackHarness Host() => new(new RelayHostNetwork(_relay.Endpoint, _secret, Vm));

    /// <summary>Sends <paramref name="data"/> from <paramref name="offset"/> until the send queue is full; returns the new offset.</summary>
    private static int FillSendQueue(StackHarness host, int id, byte[] data, int offset)
    {
        // Bounded by the data's length: every pass either sends at least one byte or stops.
        while (offset < data.Length)
        {
            var result = host.Stack.Send(id, data.AsSpan(offset));
            if (result.Value <= 0)
            {
                break;
            }

            offset += (int)result.Value;
        }

        return offset;
    }

    /// <summary>Sends the rest of <paramref name="data"/> as a non-blocking guest: whatever fits, then wait for room.</summary>
    private static async Task SendRest(StackHarness host, int id, byte[] data, int offset)
    {
        while (offset < data.Length)
        {
            offset = FillSendQueue(host, id, data, offset);
            if (offset < data.Length)
            {
                await host.WaitUntil(id, s => !s.SendQueue.IsFull || s.Reset, "the send queue has room");
                Assert.False(host.Read(id, s => s.Reset), "the connection was reset");
            }
        }
    }

    /// <summary>
    /// Leaves both directions with bytes everywhere at once: the guest's send queue full of bytes the relay has not
    /// confirmed (the client reads nothing yet), the guest's receive queue full and more client bytes held by the relay.
    /// </summary>
    private static async Task<(int Sent, Task ClientWrites)> LoadBothWays(StackHarness host, int connection, NetworkStream client, byte[] toClient, byte[] toGuest)
    {
        var clientWrites = client.WriteAsync(toGuest).AsTask();
        await host.WaitUntil(connection, s => s.ReceiveQueue.IsFull, "the guest's receive queue is full");
        var sent = FillSendQueue(host, connection, toClient, 0);
        // Bounded by the data's length, as FillSendQueue; each pass waits for the relay to take some.
        while (sent < toClient.Length && !host.Read(connection, s => s.SendQueue.IsFull))
        {
            await host.WaitUntil(connection, s => s.SendQueue.Free > 0, "room");
            sent = FillSendQueue(host, connection, toClient, sent);
        }

        Assert.True(host.Read(connection, s => s.SendQueue.IsFull), "the client's unread bytes should keep the guest's send queue full");
        return (sent, clientWrites);
    }

    [Fact]
    public async Task A_connection_detached_with_bytes_in_flight_both_ways_resumes_byte_for_byte_on_another_host()
    {
        // Far more than every buffer on the way (guest queues, windows, the kernel's socket buffers) holds.
        var toClient = Pattern(8 << 20, 1);
        var toGuest = Pattern(4 << 20, 2);
        using var client = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        var source = Host();
        IReadOnlyList<VirtualSocket> table;
        int connection;
        int sent;
        Task clientWrites;
        try
        {
            var (listener, endpoint) = source.Listen();
            using (var timeout = TimeoutSource())
            {
                await client.ConnectAsync(endpoint, timeout.Token);
            }

            await source.WaitUntil(listener, s => s.ConnectionQueue.Count > 0, "the client is queued");
            connection = (int)source.Stack.Accept(listener, nonBlockingResult: true, out _).Value;
            (sent, clientWrites) = await LoadBothWays(source, connection, client.GetStream(), toClient, toGuest);

            Assert.Equal(2, await source.Stack.FreezeAsync());
            table = source.Stack.CaptureTable();
            Assert.NotNull(Assert.Single(table, s => s.Id == connection).RelayConnection);
        }
        finally
        {
            // The source lets go, as after a migration's commit: it must not close what the destination now carries.
            source.Dispose();
        }

        using var destination = Host();
        destination.Stack.RestoreTable(table);
        destination.Stack.ActivateRestoredConnections();

        var clientReads = ReadExactly(client.GetStream(), toClient.Length);
        var guestReads = destination.ReceiveExactly(connection, toGuest.Length);
        await SendRest(destination, connection, toClient, sent);

        Assert.Equal(toGuest, await guestReads);
        Assert.Equal(toClient, await clientReads);
        await clientWrites;

        // And the connection simply goes on: one more round trip each way, then a graceful close from the guest.
        await client.GetStream().WriteAsync("after"u8.ToArray());
        Assert.Equal("after"u8.ToArray(), await destination.ReceiveExactly(connection, 5));
        AssertOk(destination.Stack.Send(connection, "bye"u8), 3);
        AssertOk(destination.Stack.Close(connection));
        Assert.Equal("bye"u8.ToArray(), await ReadExactly(client.GetStream(), 3));
        Assert.Equal(0, await ReadOnce(client.GetStream(), new byte[1]));
    }

    [Fact]
    public async Task A_migration_that_rolls_back_re_attaches_on_the_source_and_the_listener_still_takes_clients()
    {
        var toClient = Pattern(4 << 20, 3);
        var toGuest = Pattern(2 << 20, 4);
        using var host = Host();
        var (listener, endpoint) = host.Listen();
        var (connection, client) = await host.Connect(listener, endpoint);
        using (client)
        {
            var (sent, clientWrites) = await LoadBothWays(host, connection, client.GetStream(), toClient, toGuest);
            await host.Stack.FreezeAsync();

            // A client that arrives while no host carries the VM waits at the relay.
            using var latecomer = new TcpClient(AddressFamily.InterNetwork);
            using (var timeout = TimeoutSource())
            {
                await latecomer.ConnectAsync(endpoint, timeout.Token);
            }

            Assert.Empty(host.Stack.Thaw());

            var clientReads = ReadExactly(client.GetStream(), toClient.Length);
            var guestReads = host.ReceiveExactly(connection, toGuest.Length);
            await SendRest(host, connection, toClient, sent);
            Assert.Equal(toGuest, await guestReads);
            Assert.Equal(toClient, await clientReads);
            await clientWrites;

            await host.WaitUntil(listener, s => s.ConnectionQueue.Count > 0, "the latecomer is offered once the VM runs again");
            var second = (int)host.Stack.Accept(listener, nonBlockingResult: true, out _).Value;
            await latecomer.GetStream().WriteAsync("late"u8.ToArray());
            Assert.Equal("late"u8.ToArray(), await host.ReceiveExactly(second, 4));
        }
    }

    [Fact]
    public async Task Deleting_the_VM_closes_its_clients_after_the_bytes_the_guest_sent()
    {
        var host = Host();
        var (listener, endpoint) = host.Listen();
        var (connection, client) = await host.Connect(listener, endpoint);
        using (client)
        {
            AssertOk(host.Stack.Send(connection, "last"u8), 4);

            host.Dispose();

            Assert.Equal("last"u8.ToArray(), await ReadExactly(client.GetStream(), 4));
            Assert.Equal(0, await ReadOnce(client.GetStream(), new byte[1]));
        }
    }

    [Fact]
    public void A_host_with_the_wrong_secret_is_refused_with_the_reason()
    {
        var network = new RelayHostNetwork(_relay.Endpoint, RandomNumberGenerator.GetBytes(32), Vm);
        using var host = new StackHarness(network);

        var e = Assert.Throws<RelayException>(network.Connect);
        var guest = host.NewSocket();
        var bind = host.Stack.Bind(guest, Loopback(0));

        Assert.Equal($"relay {_relay.Endpoint}: refused this host: wrong secret", e.Message);
        AssertErrno(SocketErrno.ECONNREFUSED, bind);
        Assert.Equal(e.Message, network.LinkError);
    }
}
