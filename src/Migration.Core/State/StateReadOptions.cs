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

    /// <summary>
    /// Called with fresh memory as soon as the machine section has been read, before any page: a live-migration
    /// destination pre-faults it while round 0 streams. Not called for <see cref="Target"/>. An exception refuses the
    /// stream. What it returns is disposed once round 0 is in memory (its round-end), or when the read fails, and always
    /// before the reader releases the memory, so work started on the memory is stopped in time.
    /// </summary>
    public Func<GuestMemory, IDisposable?>? OnMemoryAllocated { get; init; }

    /// <summary>
    /// Called at each round-end frame, with the round's number, once that round's pages are in memory: a live-migration
    /// destination acknowledges it, so the source knows how much is still in flight. An exception refuses the stream.
    /// </summary>
    public Func<int, CancellationToken, ValueTask>? OnRoundEnd { get; init; }
}
