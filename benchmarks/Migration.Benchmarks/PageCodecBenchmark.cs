using System.Text;
using BenchmarkDotNet.Attributes;
using Migration.Core.Memory;
using Migration.Core.Pages;

namespace Migration.Benchmarks;

/// <summary>
/// Encode and decode of a 1 GiB guest in the three cases the checkpoint goals name, beside a memcpy of the same
/// gigabyte (the physical limit). GB/s = 1.0737 / (mean in seconds).
/// </summary>
/// <remarks>
/// Source and target memory are filled (so faulted in) once; decode writes into the touched target, which isolates the
/// codec from first-touch cost. <see cref="DecodeIntoFreshMemory"/> adds that cost back: it is what a resume pays.
/// "random+zero" alternates random and zero pages, so every batch holds both.
/// </remarks>
[MemoryDiagnoser]
public class PageCodecBenchmark
{
    private const ulong Size = 1UL << 30;

    private static readonly PageCodecOptions OneCoreEncode = new() { MaxDegreeOfParallelism = 1 };
    private static readonly PageCodecOptions Uncompressed = new() { Compress = false };
    private static readonly PageDecodeOptions OneCoreDecode = new() { MaxDegreeOfParallelism = 1 };

    private GuestMemory? _source;
    private GuestMemory? _target;
    private List<PageBatch> _encoded = [];

    [Params("random+zero", "zero", "text")]
    public string Content { get; set; } = "random+zero";

    [GlobalSetup]
    public unsafe void Setup()
    {
        _source = new GuestMemory(Size);
        _target = new GuestMemory(Size);
        NativeMemoryFill(_target, 0xEE);
        switch (Content)
        {
            case "random+zero":
                var random = new Random(1);
                for (var page = 0; page < _source.PageCount; page++)
                {
                    if (page % 2 == 0)
                    {
                        random.NextBytes(_source.GetPage(page));
                    }
                    else
                    {
                        // Written, not just left alone: a never-touched page would be read from the kernel's shared zero page.
                        _source.GetPage(page).Clear();
                    }
                }

                break;
            case "zero":
                NativeMemoryFill(_source, 0);
                break;
            default:
                FillWithText(_source);
                break;
        }

        _encoded = PageCodec.Encode(_source, PageCodec.AllPages(_source)).ToList();
        var stats = _encoded.Aggregate(default(PageBatchStats), (sum, b) => sum.Add(b.Stats));
        Console.WriteLine($"// {Content}: {stats}; ratio {(double)stats.EncodedBytes / stats.InputBytes:P1}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _encoded.ForEach(b => b.Dispose());
        _source?.Dispose();
        _target?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public unsafe void Memcpy() => Buffer.MemoryCopy(_source!.HostBase, _target!.HostBase, Size, Size);

    [Benchmark]
    public long Encode() => Consume(PageCodec.Encode(_source!, PageCodec.AllPages(_source!)));

    [Benchmark]
    public long EncodeOneCore() => Consume(PageCodec.Encode(_source!, PageCodec.AllPages(_source!), OneCoreEncode));

    [Benchmark]
    public long EncodeUncompressed() => Consume(PageCodec.Encode(_source!, PageCodec.AllPages(_source!), Uncompressed));

    [Benchmark]
    public int Decode() => PageCodec.Decode(_encoded.Select(b => b.Memory), _target!).Pages;

    [Benchmark]
    public int DecodeOneCore() => PageCodec.Decode(_encoded.Select(b => b.Memory), _target!, OneCoreDecode).Pages;

    [Benchmark]
    public int DecodeIntoFreshMemory()
    {
        using var fresh = new GuestMemory(Size);
        return PageCodec.Decode(_encoded.Select(b => b.Memory), fresh).Pages;
    }

    private static long Consume(IEnumerable<PageBatch> batches)
    {
        long bytes = 0;
        foreach (var batch in batches)
        {
            bytes += batch.Length;
            batch.Dispose();
        }

        return bytes;
    }

    private static unsafe void NativeMemoryFill(GuestMemory memory, byte value) =>
        System.Runtime.InteropServices.NativeMemory.Fill(memory.HostBase, (nuint)memory.Size, value);

    /// <summary>16 MiB of distinct English-like prose, tiled: each page is compressed on its own, so tiling changes nothing.</summary>
    private static unsafe void FillWithText(GuestMemory memory)
    {
        string[] words =
        [
            "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not",
            "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were",
            "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would",
            "who", "so", "no", "memory", "page", "migration", "machine", "network", "connection", "checkpoint",
        ];
        const int TileSize = 16 << 20;
        var random = new Random(2);
        var text = new StringBuilder(TileSize + 64);
        var sentenceStart = true;
        while (text.Length < TileSize)
        {
            var word = words[(int)(Math.Pow(random.NextDouble(), 2) * words.Length)];
            text.Append(sentenceStart ? char.ToUpperInvariant(word[0]) + word[1..] : word);
            sentenceStart = random.Next(12) == 0;
            text.Append(sentenceStart ? ". " : random.Next(9) == 0 ? ", " : " ");
        }

        var tile = Encoding.ASCII.GetBytes(text.ToString(0, TileSize));
        for (ulong offset = 0; offset < memory.Size; offset += TileSize)
        {
            tile.CopyTo(new Span<byte>(memory.HostBase + offset, TileSize));
        }
    }
}
