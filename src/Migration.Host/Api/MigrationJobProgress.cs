namespace Migration.Host.Api;

/// <summary>A running migration's figures, like QEMU's query-migrate.</summary>
public sealed record MigrationJobProgress(
    string Phase,
    int Round,
    long PagesLeft,
    double DirtyPagesPerSecond,
    double BandwidthBytesPerSecond,
    double ExpectedDowntimeMilliseconds,
    long BytesSent,
    double Throttle);
