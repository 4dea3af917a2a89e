namespace Migration.Core.Transfer;

/// <param name="StopAndCopy">Pause the vCPU and send the rest now; otherwise run another round.</param>
/// <param name="Reason">Why stop-and-copy, when <paramref name="StopAndCopy"/> is set.</param>
/// <param name="Throttle">The vCPU throttle to apply for the next round (or kept through stop-and-copy).</param>
/// <param name="ExpectedDowntime">The dirty pages' transfer time at the estimated bandwidth.</param>
public sealed record PrecopyDecision(
    bool StopAndCopy,
    SwitchoverReason? Reason,
    double Throttle,
    TimeSpan ExpectedDowntime,
    double BandwidthBytesPerSecond,
    double DirtyPagesPerSecond);
