using Migration.Core.Checkpoints;
using Migration.Core.Memory;
using Migration.Core.Pages;
using Migration.Core.Sockets;
using Migration.Core.State;
using Migration.Core.Streams;
using Migration.Core.Tests.Pages;

namespace Migration.Core.Tests.Fuzz;

/// <summary>
/// A small, valid machine-state stream shaped like a full checkpoint: machine and checkpoint sections, two page
/// batches, a round end, a device section and a socket table of two sockets. Payloads can be altered before they are
/// framed, so the frames around them keep valid checksums and the mutation reaches the decoder behind the framing.
/// </summary>
public static class MachineStreamBuilder
{
    public const string Kind = "fuzz-kind";

    public const int Pages = 8;

    public static IReadOnlyList<VirtualSocket> Sockets()
    {
        var connected = new VirtualSocket
        {
            Id = 0,
            Type = VirtualSocketType.Stream,
            Protocol = VirtualSocketProtocol.Tcp,
            Family = VirtualAddressFamily.IPv4,
            Status = SocketStatus.Connected,
            LocalAddress = new GuestEndpoint([10, 0, 2, 15], 40000),
            RemoteAddress = new GuestEndpoint([10, 0, 2, 2], 80),
            SendQueue = new ByteQueue(4096),
            ReceiveQueue = new ByteQueue(4096),
        };
        connected.SendQueue.Enqueue("GET / HTTP/1.0\r\n\r\n"u8);
        connected.ReceiveQueue.Enqueue("HTTP/1.0 200 OK\r\n"u8);
        connected.Events = connected.ComputeEvents();
        var bound = new VirtualSocket
        {
            Id = 5,
            Type = VirtualSocketType.Datagram,
            Protocol = VirtualSocketProtocol.Udp,
            Family = VirtualAddressFamily.IPv4,
            Status = SocketStatus.Bound,
            LocalAddress = new GuestEndpoint([0, 0, 0, 0], 5353),
        };
        bound.Events = bound.ComputeEvents();
        return [connected, bound];
    }

    /// <param name="alterSocket">Replaces the MessagePack body of socket section <c>i</c>.</param>
    /// <param name="alterBatch">Replaces the encoded page batch <c>i</c>.</param>
    public static byte[] Build(Func<int, byte[], byte[]>? alterSocket = null, Func<int, byte[], byte[]>? alterBatch = null)
    {
        using var memory = new GuestMemory(GuestMemory.MinimumSize, backing: MemoryBacking.SmallPages);
        for (var page = 0; page < Pages; page++)
        {
            if (page % 2 == 0)
            {
                TestPages.Random(memory, page, page);
            }
            else
            {
                TestPages.Text(memory, page, page);
            }
        }

        var output = new MemoryStream();
        var writer = new MigrationStreamWriter(output, Kind);
        Run(writer.WriteHeaderAsync());
        Run(writer.WriteSectionAsync(MachineDescriptor.Describe(Kind, memory).ToSection()));
        Run(writer.WriteSectionAsync(new CheckpointInfo { Sequence = 0, CreatedUnixMilliseconds = 1_700_000_000_000 }.ToSection()));
        var options = new PageCodecOptions { PagesPerBatch = Pages / 2, MaxDegreeOfParallelism = 1 };
        var batchIndex = 0;
        foreach (var batch in PageCodec.Encode(memory, Enumerable.Range(0, Pages), options))
        {
            using (batch)
            {
                var bytes = batch.Memory.ToArray();
                Run(writer.WritePagesAsync(alterBatch?.Invoke(batchIndex++, bytes) ?? bytes));
            }
        }

        Run(writer.WriteRoundEndAsync(0));
        Run(writer.WriteSectionAsync(new StateSection("cpu", 1, [.. "registers"u8])));
        var sockets = Sockets();
        Run(writer.WriteSectionAsync(SectionCodec.Encode(SectionNames.Sockets, SocketTableInfo.SectionVersion, new SocketTableInfo { Count = sockets.Count })));
        for (var i = 0; i < sockets.Count; i++)
        {
            var section = SectionCodec.Encode(SectionNames.Socket, VirtualSocket.FormatVersion, sockets[i]);
            var body = alterSocket?.Invoke(i, section.Body) ?? section.Body;
            Run(writer.WriteSectionAsync(new StateSection(section.Name, section.Version, body)));
        }

        writer.CompleteAsync().AsTask().GetAwaiter().GetResult();
        return output.ToArray();
    }

    /// <summary>Reads a whole stream the way a destination or a restore does, into small pages.</summary>
    public static async Task ReadAsync(byte[] bytes)
    {
        using var state = await MachineStateReader.ReadAsync(
            new MemoryStream(bytes),
            new StateReadOptions { ExpectedKind = Kind, MemoryBacking = MemoryBacking.SmallPages, RequireEndOfInput = true, DecodeParallelism = 1 });
    }

    private static void Run(ValueTask task) => task.AsTask().GetAwaiter().GetResult();
}
