namespace Migration.Core.Transfer;

/// <summary>A snapshot of a running migration, like QEMU's query-migrate.</summary>
/// <param name="Round">The pre-copy round being sent (0 sends every page that may be non-zero).</param>
/// <param name="PagesLeft">Pages of the current round not yet sent, or, between rounds, the dirty pages waiting for the next one.</param>
/// <param name="ExpectedDowntime">The dirty pages' transfer time at the measured bandwidth: what stop-and-copy would cost now.</param>
/// <param name="Throttle">Fraction of time the source vCPU is held (auto-converge).</param>
public sealed record MigrationProgress(
    MigrationPhase Phase,
    int Round,
    long PagesLeft,
    double DirtyPagesPerSecond,
    double BandwidthBytesPerSecond,
    TimeSpan ExpectedDowntime,
    long BytesSent,
    double Throttle);
