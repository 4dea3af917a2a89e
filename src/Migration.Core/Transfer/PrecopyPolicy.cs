using Migration.Core.Memory;

namespace Migration.Core.Transfer;

/// <summary>
/// Decides, after each pre-copy round, whether to run another round, throttle the vCPU, or stop and copy.
/// Pure: it sees only the measurements it is given, so it is tested without a network or a guest.
/// </summary>
/// <remarks>
/// <para>Stop-and-copy starts when the dirty pages would cross the link within the downtime target at the bandwidth
/// the rounds measured (bytes over time, so encoding and the link are both in it), or when nothing is dirty.</para>
/// <para>Auto-converge follows QEMU's rule: a guest that dirties, per second, more than half of what the link carries
/// shrinks the remaining set too slowly to converge in useful time, so its vCPU is throttled — first
/// <see cref="InitialThrottle"/>, then <see cref="ThrottleStep"/> more each round it still does, up to
/// <see cref="MaxThrottle"/>. Throttling only slows a guest that spends CPU time dirtying memory; a guest whose
/// writes are paced by its clock keeps its rate, and then the round limit ends the pre-copy.</para>
/// <para>After <see cref="MaxRounds"/> rounds it stops and copies anyway and says so.</para>
/// </remarks>
public sealed class PrecopyPolicy
{
    /// <summary>Share of the link's rate above which the guest's dirty rate counts as outrunning it.</summary>
    public const double OutrunRatio = 0.5;

    // A round this small measures the connection's latency rather than its bandwidth.
    private const long MinBandwidthSampleBytes = 256 * 1024;

    private double _bytesPerPage = GuestMemory.PageSize;

    public PrecopyPolicy(TimeSpan downtimeTarget, int maxRounds, double initialThrottle = 0.2, double throttleStep = 0.1, double maxThrottle = 0.99)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(downtimeTarget, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRounds);
        if (!(initialThrottle > 0 && initialThrottle <= maxThrottle && maxThrottle < 1 && throttleStep >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(initialThrottle), "throttles need 0 < initial ≤ max < 1 and a step ≥ 0");
        }

        DowntimeTarget = downtimeTarget;
        MaxRounds = maxRounds;
        InitialThrottle = initialThrottle;
        ThrottleStep = throttleStep;
        MaxThrottle = maxThrottle;
    }

    public static PrecopyPolicy For(MigrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new PrecopyPolicy(options.DowntimeTarget, options.MaxRounds, options.InitialThrottle, options.ThrottleStep, options.MaxThrottle);
    }

    public TimeSpan DowntimeTarget { get; }

    public int MaxRounds { get; }

    public double InitialThrottle { get; }

    public double ThrottleStep { get; }

    public double MaxThrottle { get; }

    /// <summary>The throttle currently asked for.</summary>
    public double Throttle { get; private set; }

    /// <summary>Bytes per second, from the latest round large enough to measure; 0 before any.</summary>
    public double BandwidthBytesPerSecond { get; private set; }

    public PrecopyDecision Next(PrecopyRound round)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(round.DirtyPages);
        Measure(round);
        var dirtyRate = round.DirtyInterval > TimeSpan.Zero ? round.DirtyPages / round.DirtyInterval.TotalSeconds : 0;
        var expected = ExpectedDowntime(round.DirtyPages);

        if (round.DirtyPages == 0 || expected <= DowntimeTarget)
        {
            return new PrecopyDecision(true, SwitchoverReason.Converged, Throttle, expected, BandwidthBytesPerSecond, dirtyRate);
        }

        if (round.Number + 1 >= MaxRounds)
        {
            return new PrecopyDecision(true, SwitchoverReason.RoundLimit, Throttle, expected, BandwidthBytesPerSecond, dirtyRate);
        }

        if (dirtyRate * _bytesPerPage > OutrunRatio * BandwidthBytesPerSecond)
        {
            Throttle = Throttle == 0 ? InitialThrottle : Math.Min(MaxThrottle, Throttle + ThrottleStep);
        }

        return new PrecopyDecision(false, null, Throttle, expected, BandwidthBytesPerSecond, dirtyRate);
    }

    /// <summary>The time <paramref name="pages"/> take at the current estimates; unknown bandwidth counts as infinite time.</summary>
    public TimeSpan ExpectedDowntime(long pages)
    {
        if (pages == 0)
        {
            return TimeSpan.Zero;
        }

        if (BandwidthBytesPerSecond <= 0)
        {
            return TimeSpan.MaxValue;
        }

        var seconds = pages * _bytesPerPage / BandwidthBytesPerSecond;
        return seconds >= TimeSpan.MaxValue.TotalSeconds ? TimeSpan.MaxValue : TimeSpan.FromSeconds(seconds);
    }

    private void Measure(PrecopyRound round)
    {
        // Dirty pages are mostly data: a round's zero pages would make the next ones look cheaper than they are.
        var costly = round.Pages - round.ZeroPages;
        if (costly > 0 && round.Bytes > 0)
        {
            _bytesPerPage = Math.Min((double)round.Bytes / costly, 2.0 * GuestMemory.PageSize);
        }

        if (round.Duration <= TimeSpan.Zero || round.Bytes <= 0)
        {
            return;
        }

        // Any sample beats none; after that, only rounds large enough to be bandwidth-bound replace the estimate.
        var sample = round.Bytes / round.Duration.TotalSeconds;
        if (BandwidthBytesPerSecond == 0 || round.Bytes >= MinBandwidthSampleBytes)
        {
            BandwidthBytesPerSecond = sample;
        }
    }
}
