namespace Migration.Core.Transfer;

/// <param name="GuestDowntime">Source vCPU paused → the destination's Resumed received (includes one round trip).</param>
/// <param name="BytesSent">Bytes of the migration stream (authentication and control messages not counted).</param>
/// <param name="CompressionRatio">Guest bytes of the pages sent over the bytes their batches took: zero pages and LZ4 raise it.</param>
/// <param name="MaxThrottle">The highest vCPU throttle auto-converge applied; 0 when it never had to.</param>
/// <param name="ExpectedDowntime">What the policy predicted when it switched to stop-and-copy.</param>
public sealed record MigrationReport(
    TimeSpan TotalTime,
    TimeSpan GuestDowntime,
    IReadOnlyList<RoundReport> Rounds,
    long BytesSent,
    long PagesSent,
    double CompressionRatio,
    double MaxThrottle,
    TimeSpan DowntimeTarget,
    TimeSpan ExpectedDowntime,
    SwitchoverReason Switchover)
{
    public bool DowntimeTargetMet => GuestDowntime <= DowntimeTarget;

    /// <summary>The vCPU had to be throttled because the guest dirtied memory faster than the link carried it.</summary>
    public bool AutoConverged => MaxThrottle > 0;

    public double BytesPerSecond => TotalTime > TimeSpan.Zero ? BytesSent / TotalTime.TotalSeconds : 0;

    public override string ToString() =>
        $"{Rounds.Count} rounds, {PagesSent} pages, {BytesSent} bytes in {TotalTime.TotalMilliseconds:F1} ms; downtime {GuestDowntime.TotalMilliseconds:F2} ms " +
        $"(target {DowntimeTarget.TotalMilliseconds:F0} ms {(DowntimeTargetMet ? "met" : "missed")}); switch-over: {Switchover}" +
        (AutoConverged ? $"; auto-converge throttled the vCPU up to {MaxThrottle:P0}" : "");
}
