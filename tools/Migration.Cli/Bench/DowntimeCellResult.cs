namespace Migration.Cli.Bench;

/// <summary>The runs of one cell and what they add up to.</summary>
/// <param name="Network">The backend the hosts used, as they reported it (auto resolves to one).</param>
/// <param name="ClientLoad">The load kv ran under, or null for guests without clients.</param>
/// <param name="ClientNote">What went wrong for the clients — the probe's connection reset (no client figure), or the load failed — else null.</param>
internal sealed record DowntimeCellResult(DowntimeCell Cell, string Network, IReadOnlyList<DowntimeRun> Runs, string? ClientLoad, string? ClientNote)
{
    public Spread Total => Spread.Of(Runs.Select(r => r.TotalMilliseconds))!;

    public Spread Downtime => Spread.Of(Runs.Select(r => r.DowntimeMilliseconds))!;

    public Spread? Client => Runs.Any(r => r.ClientMilliseconds is null) ? null : Spread.Of(Runs.Select(r => r.ClientMilliseconds!.Value));

    public Spread Rounds => Spread.Of(Runs.Select(r => (double)r.Rounds))!;

    public Spread Bytes => Spread.Of(Runs.Select(r => (double)r.BytesSent))!;

    public Spread GigabytesPerSecond => Spread.Of(Runs.Select(r => r.GigabytesPerSecond))!;
}
