namespace Migration.Host.Api;

/// <summary>The report of a finished live migration, as the job shows it.</summary>
/// <param name="DowntimeMilliseconds">Guest-visible: source vCPU stopped → destination vCPU resumed.</param>
/// <param name="CompressionRatio">Guest bytes of the pages sent over the bytes they took (zero pages and LZ4 raise it).</param>
/// <param name="Switchover">Why pre-copy ended: the dirty set fit the downtime target, or the round limit forced it.</param>
public sealed record MigrationJobResult(
    string To,
    double TotalMilliseconds,
    double DowntimeMilliseconds,
    double DowntimeTargetMilliseconds,
    bool DowntimeTargetMet,
    double ExpectedDowntimeMilliseconds,
    long BytesSent,
    long PagesSent,
    double GigabytesPerSecond,
    double CompressionRatio,
    double MaxThrottle,
    bool AutoConverged,
    string Switchover,
    IReadOnlyList<MigrationRoundResult> Rounds);
