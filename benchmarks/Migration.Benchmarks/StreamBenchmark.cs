using BenchmarkDotNet.Attributes;
using Migration.Core.Streams;

namespace Migration.Benchmarks;

/// <summary>
/// The migration stream's own cost around the page payload: 256 MiB of 1 MiB page-batch frames written (header, frame
/// headers, running digest) into memory, and read back frame by frame with every check the reader makes. The batch
/// bytes are opaque here; the page codec has its own benchmark.
/// </summary>
[MemoryDiagnoser]
public class StreamBenchmark
{
    private const int FrameBytes = 1 << 20;
    private const int Frames = 256;

    private readonly byte[] _batch = new byte[FrameBytes];
    private MemoryStream _output = new();
    private byte[] _written = [];

    [GlobalSetup]
    public void Setup()
    {
        new Random(7).NextBytes(_batch);
        _output = new MemoryStream(Frames * (FrameBytes + 64) + 4096);
        Write().AsTask().GetAwaiter().GetResult();
        _written = _output.ToArray();
    }

    [Benchmark]
    public async ValueTask<long> Write()
    {
        _output.Position = 0;
        var writer = new MigrationStreamWriter(_output, "riscv64");
        await writer.WriteHeaderAsync().ConfigureAwait(false);
        for (var i = 0; i < Frames; i++)
        {
            await writer.WritePagesAsync(_batch).ConfigureAwait(false);
        }

        await writer.WriteRoundEndAsync(0).ConfigureAwait(false);
        return (await writer.CompleteAsync().ConfigureAwait(false)).Bytes;
    }

    [Benchmark]
    public async ValueTask<long> Read()
    {
        using var input = new MemoryStream(_written, writable: false);
        var reader = new MigrationStreamReader(input);
        await reader.ReadHeaderAsync().ConfigureAwait(false);
        long payload = 0;
        while (await reader.ReadFrameAsync().ConfigureAwait(false) is { } frame)
        {
            using (frame)
            {
                payload += frame.Length;
            }
        }

        return payload;
    }
}
