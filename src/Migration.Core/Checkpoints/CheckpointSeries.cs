using Migration.Core.Memory;

namespace Migration.Core.Checkpoints;

/// <summary>
/// The chain of checkpoints taken of one running machine. It remembers the last checkpoint's digest and the dirty-log
/// epoch right after it: the next checkpoint can be incremental only if nothing else collected the log in between
/// (a live migration, another series), because only then does the log hold every page changed since.
/// </summary>
public sealed class CheckpointSeries
{
    private long _epoch = -1;

    public int LastSequence { get; private set; } = -1;

    public ulong? LastDigest { get; private set; }

    /// <summary>The next checkpoint of this memory can hold only the pages dirtied since the last one.</summary>
    public bool CanContinue(GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        return LastDigest is not null && memory.DirtyLog.Epoch == _epoch;
    }

    internal void Record(int sequence, ulong digest, long epoch)
    {
        LastSequence = sequence;
        LastDigest = digest;
        _epoch = epoch;
    }

    /// <summary>A capture that failed after collecting the log lost the change record: the next one must be full.</summary>
    internal void Break()
    {
        LastDigest = null;
        _epoch = -1;
    }
}
