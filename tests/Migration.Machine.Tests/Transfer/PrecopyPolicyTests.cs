using Migration.Core.Transfer;

namespace Migration.Machine.Tests.Transfer;

public sealed class PrecopyPolicyTests
{
    private const int Page = 4096;
    private static readonly TimeSpan Target = TimeSpan.FromMilliseconds(30);

    // 1 GB/s: 100 MB in 100 ms.
    private static PrecopyRound Round(int number, int dirtyPages, int pages = 25_000, double seconds = 0.1, double dirtySeconds = 0.1) =>
        new(number, pages, (long)pages * Page, TimeSpan.FromSeconds(seconds), dirtyPages, TimeSpan.FromSeconds(dirtySeconds));

    [Fact]
    public void Stops_and_copies_once_the_dirty_pages_fit_the_target_at_the_measured_bandwidth()
    {
        var policy = new PrecopyPolicy(Target, maxRounds: 30);

        // At ~1 GB/s, 30 ms carries ~7,500 pages.
        var more = policy.Next(Round(0, dirtyPages: 9_000));
        var fits = policy.Next(Round(1, dirtyPages: 7_000));

        Assert.False(more.StopAndCopy);
        Assert.True(fits.StopAndCopy);
        Assert.Equal(SwitchoverReason.Converged, fits.Reason);
        Assert.Equal(Page * 25_000 / 0.1, fits.BandwidthBytesPerSecond, 3);
        Assert.InRange(fits.ExpectedDowntime.TotalMilliseconds, 28, 29);
        Assert.Equal(0, fits.Throttle);
    }

    [Fact]
    public void Nothing_dirty_stops_at_once_even_before_any_bandwidth_is_known()
    {
        var policy = new PrecopyPolicy(Target, maxRounds: 30);

        var decision = policy.Next(new PrecopyRound(0, 0, 0, TimeSpan.Zero, 0, TimeSpan.FromMilliseconds(1)));

        Assert.True(decision.StopAndCopy);
        Assert.Equal(TimeSpan.Zero, decision.ExpectedDowntime);
    }

    [Fact]
    public void A_guest_that_dirties_more_than_half_the_link_rate_is_throttled_in_steps_up_to_the_ceiling()
    {
        var policy = new PrecopyPolicy(Target, maxRounds: 100);
        var throttles = new List<double>();

        // 20,000 pages in 0.1 s dirtied ≈ 0.8 GB/s against a ~1 GB/s link.
        for (var round = 0; round < 12; round++)
        {
            var decision = policy.Next(Round(round, dirtyPages: 20_000));
            Assert.False(decision.StopAndCopy);
            throttles.Add(decision.Throttle);
        }

        Assert.Equal([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 0.99, 0.99, 0.99], throttles.Select(t => Math.Round(t, 2)));
    }

    [Fact]
    public void A_guest_below_half_the_link_rate_is_left_alone()
    {
        var policy = new PrecopyPolicy(Target, maxRounds: 100);

        // 10,000 pages in 0.1 s ≈ 0.41 GB/s against ~1 GB/s.
        var decision = policy.Next(Round(0, dirtyPages: 10_000));

        Assert.False(decision.StopAndCopy);
        Assert.Equal(0, decision.Throttle);
        Assert.Equal(100_000, decision.DirtyPagesPerSecond, 3);
    }

    [Fact]
    public void Past_the_round_limit_it_stops_and_copies_anyway_and_says_why()
    {
        var policy = new PrecopyPolicy(Target, maxRounds: 3);

        var decisions = Enumerable.Range(0, 3).Select(r => policy.Next(Round(r, dirtyPages: 20_000))).ToList();

        Assert.False(decisions[0].StopAndCopy);
        Assert.False(decisions[1].StopAndCopy);
        Assert.True(decisions[2].StopAndCopy);
        Assert.Equal(SwitchoverReason.RoundLimit, decisions[2].Reason);
        Assert.True(decisions[2].ExpectedDowntime > Target);
        Assert.Equal(0.3, decisions[2].Throttle, 6);
    }

    [Fact]
    public void A_round_too_small_to_measure_keeps_the_earlier_bandwidth()
    {
        var policy = new PrecopyPolicy(Target, maxRounds: 30);
        policy.Next(Round(0, dirtyPages: 20_000));

        // Ten pages taking 1 ms say more about latency than bandwidth.
        var decision = policy.Next(new PrecopyRound(1, 10, 10 * Page, TimeSpan.FromMilliseconds(1), 20_000, TimeSpan.FromSeconds(0.1)));

        Assert.Equal(Page * 25_000 / 0.1, decision.BandwidthBytesPerSecond, 3);
    }

    [Fact]
    public void Zero_pages_do_not_make_the_next_pages_look_cheap()
    {
        var policy = new PrecopyPolicy(Target, maxRounds: 30);

        // Round 0: 100,000 pages of which 90,000 zero (a few bytes each) and 10,000 raw, in 50 ms.
        var bytes = (10_000L * (Page + 6)) + (90_000L * 6);
        var decision = policy.Next(new PrecopyRound(0, 100_000, bytes, TimeSpan.FromMilliseconds(50), 10_000, TimeSpan.FromMilliseconds(50), ZeroPages: 90_000));

        // 10,000 dirty pages cost about as much as the 10,000 data pages did: ~50 ms, over the target.
        Assert.InRange(decision.ExpectedDowntime.TotalMilliseconds, 49, 52);
        Assert.False(decision.StopAndCopy);
    }

    [Theory]
    [InlineData(0, 0.1, 0.99)]
    [InlineData(0.2, 0.1, 1.0)]
    [InlineData(0.5, 0.1, 0.4)]
    public void Throttle_settings_outside_0_to_1_are_refused(double initial, double step, double max) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrecopyPolicy(Target, 30, initial, step, max));
}
