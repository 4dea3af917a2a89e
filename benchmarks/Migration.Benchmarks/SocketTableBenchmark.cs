using BenchmarkDotNet.Attributes;
using Migration.Core.Sockets;
using Migration.Core.State;
using Migration.Networking.Plain;

namespace Migration.Benchmarks;

/// <summary>
/// The socket table's share of a switch-over: every socket with both queues full (256 KiB each way), encoded as the
/// sections a migration sends (one per socket), then decoded, checked and restored into a fresh stack with the plain
/// backend (connected sockets take the reset path, so no host socket is opened and the figure is the table's own).
/// </summary>
[MemoryDiagnoser]
public class SocketTableBenchmark
{
    private const int QueueBytes = 256 * 1024;

    private List<VirtualSocket> _table = [];
    private List<StateSection> _sections = [];

    [Params(16, 128)]
    public int Sockets { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var payload = new byte[QueueBytes];
        new Random(42).NextBytes(payload);
        _table = [.. Enumerable.Range(0, Sockets).Select(i => FullSocket(i, payload))];
        _sections = Encode();
    }

    [Benchmark]
    public List<StateSection> Encode() =>
        [.. _table.Select(socket => SectionCodec.Encode(SectionNames.Socket, VirtualSocket.FormatVersion, socket))];

    [Benchmark]
    public int DecodeAndRestore()
    {
        var decoded = _sections.Select(section => SectionCodec.Decode<VirtualSocket>(section, VirtualSocket.FormatVersion)).ToList();
        using var network = new PlainHostNetwork();
        var stack = new VirtualSocketStack(network, new PortMap());
        stack.RestoreTable(decoded);
        return decoded.Count;
    }

    private static VirtualSocket FullSocket(int index, byte[] payload)
    {
        var socket = new VirtualSocket
        {
            Id = index,
            Type = VirtualSocketType.Stream,
            Protocol = VirtualSocketProtocol.Tcp,
            Family = VirtualAddressFamily.IPv4,
            Status = SocketStatus.Connected,
            LocalAddress = new GuestEndpoint([10, 0, 0, 1], 6379),
            RemoteAddress = new GuestEndpoint([10, 0, 0, 2], 40000 + index),
            HostEndpoint = $"127.0.0.1:{41000 + index}",
            SendQueue = new ByteQueue(QueueBytes),
            ReceiveQueue = new ByteQueue(QueueBytes),
        };
        socket.SendQueue.Enqueue(payload);
        socket.ReceiveQueue.Enqueue(payload);
        socket.Events = socket.ComputeEvents();
        return socket;
    }
}
