using Migration.Core.Memory;
using Migration.Core.Pages;

namespace Migration.Core.State;

public sealed class StateReadOptions
{
    public static StateReadOptions Default { get; } = new();

    /// <summary>Refuse a stream for another kind of machine before anything is allocated; null accepts any kind.</summary>
    public string? ExpectedKind { get; init; }

    /// <summary>
    /// Apply the pages over this memory instead of allocating fresh memory (the later files of an incremental chain).
    /// Zero pages are then cleared where the memory is not already zero.
    /// </summary>
    public GuestMemory? Target { get; init; }

    public MemoryBacking MemoryBacking { get; init; } = MemoryBacking.HugePages;

    /// <summary>Files: nothing may follow the end frame.</summary>
    public bool RequireEndOfInput { get; init; }

    public int DecodeParallelism { get; init; } = PageDecodeOptions.Default.MaxDegreeOfParallelism;
}
