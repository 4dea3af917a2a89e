namespace Migration.Cli.Bench;

/// <summary>One measured migration of a cell.</summary>
/// <param name="DowntimeMilliseconds">Guest-visible: source vCPU stopped → destination vCPU resumed, as the hosts measured it.</param>
/// <param name="ClientMilliseconds">The longest wait for a reply the probing client saw across the migration; null without clients, or when the backend reset the connection.</param>
/// <param name="GigabytesPerSecond">Guest memory size over total time (10^9 bytes per second).</param>
internal sealed record DowntimeRun(
    double TotalMilliseconds,
    double DowntimeMilliseconds,
    double? ClientMilliseconds,
    int Rounds,
    long BytesSent,
    double GigabytesPerSecond);
