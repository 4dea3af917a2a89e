using System.Diagnostics;

namespace Migration.Core.Transfer;

/// <summary>
/// Caps the average rate of writes. A write larger than the tokens at hand is let through and leaves a debt that the
/// next write waits off, so frames of any size keep the average exact; the burst after an idle spell is bounded.
/// </summary>
internal sealed class TokenBucket
{
    private static readonly TimeSpan Burst = TimeSpan.FromMilliseconds(50);

    private long? _bytesPerSecond;
    private double _tokens;
    private long _refilledAt = Stopwatch.GetTimestamp();

    public TokenBucket(long? bytesPerSecond)
    {
        _bytesPerSecond = bytesPerSecond;
    }

    public bool Limited => _bytesPerSecond is not null;

    /// <summary>From now on every write goes through at once.</summary>
    public void Lift() => _bytesPerSecond = null;

    public async ValueTask TakeAsync(long bytes, CancellationToken cancellationToken)
    {
        if (_bytesPerSecond is not { } rate)
        {
            return;
        }

        Refill(rate);
        _tokens -= bytes;
        if (_tokens < 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(-_tokens / rate), cancellationToken).ConfigureAwait(false);
        }
    }

    private void Refill(long rate)
    {
        var now = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(_refilledAt, now);
        _refilledAt = now;
        _tokens = Math.Min(_tokens + (elapsed.TotalSeconds * rate), Burst.TotalSeconds * rate);
    }
}
