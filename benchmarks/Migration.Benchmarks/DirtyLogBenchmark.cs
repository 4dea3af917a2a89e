using BenchmarkDotNet.Attributes;
using Migration.Core.Memory;

namespace Migration.Benchmarks;

/// <summary>Collect-and-clear over the dirty log of 1, 4 and 8 GiB of guest memory (262,144 pages a GiB).</summary>
[MemoryDiagnoser]
public class DirtyLogBenchmark
{
    private DirtyLog? _log;

    [Params(1, 4, 8)]
    public int GiB { get; set; }

    private int Pages => (int)(((ulong)GiB << 30) / GuestMemory.PageSize);

    [GlobalSetup]
    public void Setup() => _log = new DirtyLog(Pages);

    [GlobalCleanup]
    public void Cleanup() => _log?.Dispose();

    [Benchmark(Baseline = true)]
    public int CollectClean() => _log!.CollectAndClear().Count;

    [Benchmark]
    public int CollectOnePercentDirty()
    {
        for (var page = 0; page < Pages; page += 100)
        {
            _log!.Mark(page);
        }

        return _log!.CollectAndClear().Count;
    }

    [Benchmark]
    public int CollectAllDirty()
    {
        _log!.MarkAll();
        return _log.CollectAndClear().Count;
    }

    [Benchmark]
    public int CollectAllDirtyAndEnumerate()
    {
        _log!.MarkAll();
        var sum = 0;
        foreach (var page in _log.CollectAndClear())
        {
            sum += page;
        }

        return sum;
    }
}
