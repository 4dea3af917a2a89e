using System.Net;
using MessagePack;
using Migration.Core.Sockets;

namespace Migration.Core.Tests.Sockets;

public class VirtualSocketSerializationTests
{
    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 13) ^ seed ^ (i >> 9));
        }

        return bytes;
    }

    /// <summary>A full queue whose ring has wrapped, so serialisation must unroll it oldest first.</summary>
    private static (ByteQueue Queue, byte[] Expected) FullWrappedQueue(int capacity, int seed)
    {
        var queue = new ByteQueue(capacity);
        var first = Pattern(capacity, seed);
        Assert.Equal(capacity, queue.Enqueue(first));
        queue.Discard(capacity / 3);
        var second = Pattern(capacity, seed + 1);
        Assert.Equal(capacity / 3, queue.Enqueue(second));
        Assert.True(queue.IsFull);
        return (queue, [.. first.AsSpan(capacity / 3), .. second.AsSpan(0, capacity / 3)]);
    }

    private static GuestEndpoint V4(byte a, byte b, byte c, byte d, int port) => new([a, b, c, d], port);

    private static GuestEndpoint V6(string address, int port) => GuestEndpoint.From(new IPEndPoint(IPAddress.Parse(address), port));

    private static VirtualSocket PendingConnection(int seed, GuestEndpoint local, GuestEndpoint remote, int queued)
    {
        var connection = new VirtualSocket
        {
            Id = -1,
            Type = VirtualSocketType.Stream,
            Protocol = VirtualSocketProtocol.Tcp,
            Family = local.Family,
            Status = SocketStatus.Receiving,
            LocalAddress = local,
            RemoteAddress = remote,
            HostEndpoint = $"127.0.0.1:{40000 + seed}",
            PeerClosed = seed % 2 == 0,
        };
        connection.ReceiveQueue.Enqueue(Pattern(queued, seed));
        connection.Events = connection.ComputeEvents();
        return connection;
    }

    private static VirtualSocket RichSocket()
    {
        var (send, _) = FullWrappedQueue(256 * 1024, 3);
        var (receive, _) = FullWrappedQueue(64 * 1024 + 17, 5);
        var local = V6("2001:db8::1", 8080);
        var socket = new VirtualSocket
        {
            Id = 7,
            Type = VirtualSocketType.Stream,
            Protocol = VirtualSocketProtocol.Tcp,
            Family = VirtualAddressFamily.IPv6,
            Options = new SocketOptions
            {
                ReuseAddress = true,
                NoDelay = true,
                KeepAlive = true,
                SendBufferSize = 12_345,
                ReceiveBufferSize = 54_321,
                LingerEnabled = true,
                LingerSeconds = 9,
            },
            Blocking = false,
            LocalAddress = local,
            RemoteAddress = V6("fe80::1234:5678", 65535),
            HostEndpoint = "[::1]:41234",
            Status = SocketStatus.Sending,
            SendQueue = send,
            ReceiveQueue = receive,
            ConnectionQueue =
            [
                PendingConnection(1, local, V6("::ffff:10.0.0.1", 1), 1000),
                PendingConnection(2, local, V6("2001:db8::2", 2), 70_000),
            ],
            Backlog = 33,
            DatagramQueue =
            [
                new Datagram(V4(10, 1, 2, 3, 53), Pattern(512, 9)),
                new Datagram(V6("::1", 5353), []),
            ],
            PendingError = SocketErrno.ECONNRESET,
            ReadShut = true,
            WriteShut = true,
            PeerClosed = true,
            Reset = true,
            ConnectInProgress = true,
            Host = new object(),
        };
        socket.Events = socket.ComputeEvents();
        return socket;
    }

    private static VirtualSocket RoundTrip(VirtualSocket socket) =>
        MessagePackSerializer.Deserialize<VirtualSocket>(MessagePackSerializer.Serialize(socket));

    private static void AssertQueueEqual(ByteQueue expected, ByteQueue actual)
    {
        Assert.Equal(expected.Capacity, actual.Capacity);
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.IsFull, actual.IsFull);
        Assert.True(expected.ToArray().AsSpan().SequenceEqual(actual.ToArray()), "queue contents differ");
    }

    private static void AssertSocketEqual(VirtualSocket expected, VirtualSocket actual)
    {
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Protocol, actual.Protocol);
        Assert.Equal(expected.Family, actual.Family);
        Assert.Equal(expected.Options.ReuseAddress, actual.Options.ReuseAddress);
        Assert.Equal(expected.Options.NoDelay, actual.Options.NoDelay);
        Assert.Equal(expected.Options.KeepAlive, actual.Options.KeepAlive);
        Assert.Equal(expected.Options.SendBufferSize, actual.Options.SendBufferSize);
        Assert.Equal(expected.Options.ReceiveBufferSize, actual.Options.ReceiveBufferSize);
        Assert.Equal(expected.Options.LingerEnabled, actual.Options.LingerEnabled);
        Assert.Equal(expected.Options.LingerSeconds, actual.Options.LingerSeconds);
        Assert.Equal(expected.Blocking, actual.Blocking);
        Assert.Equal(expected.LocalAddress, actual.LocalAddress);
        Assert.Equal(expected.LocalAddress?.Family, actual.LocalAddress?.Family);
        Assert.Equal(expected.RemoteAddress, actual.RemoteAddress);
        Assert.Equal(expected.HostEndpoint, actual.HostEndpoint);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.Events, actual.Events);
        AssertQueueEqual(expected.SendQueue, actual.SendQueue);
        AssertQueueEqual(expected.ReceiveQueue, actual.ReceiveQueue);
        Assert.Equal(expected.ConnectionQueue.Count, actual.ConnectionQueue.Count);
        for (var i = 0; i < expected.ConnectionQueue.Count; i++)
        {
            AssertSocketEqual(expected.ConnectionQueue[i], actual.ConnectionQueue[i]);
        }

        Assert.Equal(expected.Backlog, actual.Backlog);
        Assert.Equal(expected.DatagramQueue.Count, actual.DatagramQueue.Count);
        for (var i = 0; i < expected.DatagramQueue.Count; i++)
        {
            Assert.Equal(expected.DatagramQueue[i].From, actual.DatagramQueue[i].From);
            Assert.Equal(expected.DatagramQueue[i].Payload, actual.DatagramQueue[i].Payload);
        }

        Assert.Equal(expected.PendingError, actual.PendingError);
        Assert.Equal(expected.ReadShut, actual.ReadShut);
        Assert.Equal(expected.WriteShut, actual.WriteShut);
        Assert.Equal(expected.PeerClosed, actual.PeerClosed);
        Assert.Equal(expected.Reset, actual.Reset);
        Assert.Equal(expected.ConnectInProgress, actual.ConnectInProgress);
        Assert.Null(actual.Host);
    }

    [Fact]
    public void Every_field_survives_a_round_trip_with_full_wrapped_queues()
    {
        var socket = RichSocket();
        Assert.True(socket.SendQueue.IsFull);
        Assert.True(socket.ReceiveQueue.IsFull);

        var copy = RoundTrip(socket);

        AssertSocketEqual(socket, copy);
        Assert.Equal(2, copy.ConnectionQueue.Count);
        Assert.Equal(70_000, copy.ConnectionQueue[1].ReceiveQueue.Count);
        Assert.Equal(VirtualAddressFamily.IPv6, copy.LocalAddress!.Family);
    }

    [Fact]
    public void Queue_contents_come_back_oldest_first_and_keep_working()
    {
        var (queue, expected) = FullWrappedQueue(10_000, 11);
        var socket = new VirtualSocket { SendQueue = queue, Status = SocketStatus.Sending };

        var copy = RoundTrip(socket);

        Assert.Equal(expected, copy.SendQueue.ToArray());
        // The restored queue is a working ring: still full, then drains and refills in order.
        Assert.Equal(0, copy.SendQueue.Enqueue([1]));
        var head = new byte[4_000];
        Assert.Equal(4_000, copy.SendQueue.Dequeue(head));
        Assert.Equal(expected[..4_000], head);
        Assert.Equal(4_000, copy.SendQueue.Enqueue(Pattern(5_000, 12)));
        Assert.Equal([.. expected.AsSpan(4_000), .. Pattern(4_000, 12)], copy.SendQueue.ToArray());
    }

    [Fact]
    public void An_IPv4_datagram_socket_round_trips()
    {
        var socket = new VirtualSocket
        {
            Id = 0,
            Type = VirtualSocketType.Datagram,
            Protocol = VirtualSocketProtocol.Udp,
            Family = VirtualAddressFamily.IPv4,
            LocalAddress = V4(0, 0, 0, 0, 5000),
            RemoteAddress = V4(192, 168, 1, 20, 6000),
            Status = SocketStatus.Bound,
            DatagramQueue = [.. Enumerable.Range(0, VirtualSocket.MaxDatagramQueue).Select(i => new Datagram(V4(127, 0, 0, 1, 1000 + i), Pattern(i * 7, i)))],
        };
        socket.Events = socket.ComputeEvents();

        var copy = RoundTrip(socket);

        AssertSocketEqual(socket, copy);
        Assert.Equal(VirtualAddressFamily.IPv4, copy.RemoteAddress!.Family);
        Assert.Equal(SocketEvents.Readable | SocketEvents.Writable, copy.ComputeEvents());
    }

    [Fact]
    public void A_default_socket_round_trips()
    {
        var socket = new VirtualSocket();
        AssertSocketEqual(socket, RoundTrip(socket));
    }

    [Fact]
    public void A_queue_that_claims_more_bytes_than_its_capacity_is_refused()
    {
        var socket = new VirtualSocket { SendQueue = new ByteQueue(8) };
        socket.SendQueue.Enqueue([1, 2, 3, 4, 5, 6, 7, 8]);
        var bytes = MessagePackSerializer.Serialize(socket);

        // Integer keys serialise as arrays: shrink the send queue's (key 12) capacity (its key 0), as a corrupt or hostile image might.
        var corrupted = MessagePackSerializer.Deserialize<object[]>(bytes);
        var queue = (object[])corrupted[12];
        queue[0] = 4;
        var tampered = MessagePackSerializer.Serialize(corrupted);

        var e = Assert.Throws<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<VirtualSocket>(tampered));
        var inner = e.InnerException;
        while (inner is not null and not InvalidDataException)
        {
            inner = inner.InnerException;
        }

        Assert.NotNull(inner);
        Assert.Contains("capacity 4", inner.Message, StringComparison.Ordinal);
    }
}
