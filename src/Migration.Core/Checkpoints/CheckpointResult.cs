using Migration.Core.Pages;

namespace Migration.Core.Checkpoints;

/// <param name="Path">The file, for checkpoints written by <see cref="CheckpointDirectory"/>; null for a plain stream.</param>
/// <param name="Paused">How long the capture kept a running guest stopped; zero for a guest that was already paused.</param>
public sealed record CheckpointResult(
    string? Path,
    int Sequence,
    ulong? ParentDigest,
    ulong Digest,
    long Bytes,
    PageBatchStats Pages,
    int Sockets,
    TimeSpan Paused,
    TimeSpan Elapsed)
{
    public bool IsIncremental => ParentDigest is not null;

    public string DigestText => Digest.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
}
