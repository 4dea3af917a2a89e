using System.Diagnostics;

namespace Migration.Cli.Bench;

/// <summary>
/// When a client saw replies, so that the pause a migration caused can be read off afterwards as the largest gap
/// between two replies around it (the client-observed downtime). Timestamps are <see cref="Stopwatch"/> ticks.
/// </summary>
internal sealed class ReplyTimeline
{
    // Bounded: a probe that outlives its run keeps the latest replies, which are the ones a report needs.
    private const int Capacity = 4_000_000;

    private readonly List<long> _replies = [];
    private readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _replies.Count;
            }
        }
    }

    public void Mark() => Mark(Stopwatch.GetTimestamp());

    public void Mark(long timestamp)
    {
        lock (_lock)
        {
            if (_replies.Count == Capacity)
            {
                _replies.RemoveRange(0, Capacity / 2);
            }

            _replies.Add(timestamp);
        }
    }

    /// <summary>
    /// The longest stretch without a reply that overlaps [<paramref name="from"/>, <paramref name="to"/>] — a
    /// migration's start and end. A window with no reply at all reaches to the next reply (or the last one seen).
    /// </summary>
    public TimeSpan LargestGap(long from, long to)
    {
        lock (_lock)
        {
            var largest = 0L;
            for (var i = 1; i < _replies.Count; i++)
            {
                var start = _replies[i - 1];
                var end = _replies[i];
                if (end >= from && start <= to)
                {
                    largest = Math.Max(largest, end - start);
                }

                if (start > to)
                {
                    break;
                }
            }

            return Stopwatch.GetElapsedTime(0, largest);
        }
    }
}
