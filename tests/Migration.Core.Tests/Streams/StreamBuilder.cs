using Migration.Core.Memory;
using Migration.Core.Pages;
using Migration.Core.State;
using Migration.Core.Streams;
using Migration.Core.Tests.Pages;

namespace Migration.Core.Tests.Streams;

/// <summary>Small, complete streams for the reader tests: a few sections, a few page batches, a round end.</summary>
internal static class StreamBuilder
{
    public const string Kind = "test-kind";

    public static byte[] Build(int pages = 8, Action<MigrationStreamWriter>? extra = null)
    {
        using var memory = new GuestMemory(GuestMemory.MinimumSize, backing: MemoryBacking.SmallPages);
        for (var page = 0; page < pages; page++)
        {
            if (page % 3 == 0)
            {
                TestPages.Random(memory, page, page);
            }
            else if (page % 3 == 1)
            {
                TestPages.Text(memory, page, page);
            }
        }

        var output = new MemoryStream();
        var writer = new MigrationStreamWriter(output, Kind);
        Run(writer.WriteHeaderAsync());
        Run(writer.WriteSectionAsync(new StateSection("alpha", 1, [1, 2, 3, 4, 5])));
        var options = new PageCodecOptions { PagesPerBatch = 4, MaxDegreeOfParallelism = 1 };
        foreach (var batch in PageCodec.Encode(memory, Enumerable.Range(0, pages), options))
        {
            using (batch)
            {
                Run(writer.WritePagesAsync(batch.Memory));
            }
        }

        Run(writer.WriteRoundEndAsync(0));
        extra?.Invoke(writer);
        Run(writer.WriteSectionAsync(new StateSection("beta-2", 7, [.. "body of beta"u8])));
        writer.CompleteAsync().AsTask().GetAwaiter().GetResult();
        return output.ToArray();
    }

    /// <summary>Reads a whole stream and returns the frames it held (type, and section name or payload length).</summary>
    public static List<string> ReadAll(byte[] bytes, bool requireEnd = true) =>
        ReadAllAsync(bytes, requireEnd).GetAwaiter().GetResult();

    public static async Task<List<string>> ReadAllAsync(byte[] bytes, bool requireEnd)
    {
        var reader = new MigrationStreamReader(new MemoryStream(bytes), requireEnd);
        var seen = new List<string>();
        var header = await reader.ReadHeaderAsync();
        seen.Add($"header {header.MachineKind} v{header.FormatVersion}");
        while (await reader.ReadFrameAsync() is { } frame)
        {
            using (frame)
            {
                seen.Add(frame.Type == FrameType.Section ? $"section {frame.ToSection().Name} v{frame.ToSection().Version}" : $"{frame.Type} {frame.Length}");
            }
        }

        return seen;
    }

    private static void Run(ValueTask task) => task.AsTask().GetAwaiter().GetResult();
}
