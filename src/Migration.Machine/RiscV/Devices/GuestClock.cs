using System.Diagnostics;

namespace Migration.Machine.RiscV.Devices;

/// <summary>
/// The guest's monotonic clock in nanoseconds: host monotonic time plus an offset, so that a machine restored
/// elsewhere can continue from the value it had instead of jumping back.
/// </summary>
public sealed class GuestClock
{
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    public long OffsetNanoseconds { get; set; }

    public long NowNanoseconds => HostNanoseconds + OffsetNanoseconds;

    private static long HostNanoseconds => (long)(Stopwatch.GetTimestamp() * NanosecondsPerTick);

    /// <summary>
    /// Makes the clock read <paramref name="nanoseconds"/> now and run on from there. The offset is negative when the
    /// value is behind this host's monotonic time (it started later elsewhere) and positive when it is ahead.
    /// </summary>
    public void ContinueFrom(long nanoseconds) => OffsetNanoseconds = nanoseconds - HostNanoseconds;

    /// <summary>Host time left until the guest clock reaches a deadline, clamped to what a wait accepts.</summary>
    public TimeSpan Until(long deadlineNanoseconds)
    {
        var remaining = deadlineNanoseconds - NowNanoseconds;
        if (remaining <= 0)
        {
            return TimeSpan.Zero;
        }

        // Whole milliseconds, rounded up: waits truncate sub-millisecond spans to zero, which would turn the last
        // fraction of every timed guest wait into a busy loop re-issuing the hypercall.
        return remaining >= (long)int.MaxValue * 1_000_000
            ? Timeout.InfiniteTimeSpan
            : TimeSpan.FromMilliseconds((remaining + 999_999) / 1_000_000);
    }
}
