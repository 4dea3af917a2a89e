using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Migration.Machine.Tests.Continuity;

/// <summary>
/// A client of its own beside the benchmark: PING/PONG round trips in a loop on one connection, each reply
/// timestamped, so the longest silence a client sees across each migration can be measured.
/// </summary>
internal sealed class PingGapRecorder : IAsyncDisposable
{
    private readonly TcpClient _client = new() { NoDelay = true };
    private readonly List<long> _replies = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public long Replies
    {
        get
        {
            lock (_replies)
            {
                return _replies.Count;
            }
        }
    }

    public async Task StartAsync(IPEndPoint endpoint)
    {
        await _client.ConnectAsync(endpoint);
        _loop = RunAsync();
    }

    /// <summary>The longest interval between consecutive replies that overlaps [from, to] (Stopwatch timestamps), in ms.</summary>
    public double LongestGap(long from, long to)
    {
        lock (_replies)
        {
            var longest = 0L;
            for (var i = 1; i < _replies.Count; i++)
            {
                if (_replies[i] >= from && _replies[i - 1] <= to)
                {
                    longest = Math.Max(longest, _replies[i] - _replies[i - 1]);
                }
            }

            // A migration still unanswered at its end counts up to the end.
            if (_replies.Count > 0 && _replies[^1] < to)
            {
                longest = Math.Max(longest, to - _replies[^1]);
            }

            return longest * 1000.0 / Stopwatch.Frequency;
        }
    }

    private async Task RunAsync()
    {
        var stream = _client.GetStream();
        var request = Encoding.ASCII.GetBytes("PING\r\n");
        var reply = new byte[7];
        // Bounded by the stop signal and by a count far above what a run needs.
        for (var i = 0; i < 10_000_000 && !_stop.IsCancellationRequested; i++)
        {
            await stream.WriteAsync(request, _stop.Token);
            await stream.ReadExactlyAsync(reply, _stop.Token);
            if (reply[0] != (byte)'+')
            {
                throw new InvalidDataException($"PING answered {Encoding.ASCII.GetString(reply)}");
            }

            lock (_replies)
            {
                _replies.Add(Stopwatch.GetTimestamp());
            }
        }
    }

    /// <summary>Stops the loop; throws what broke it, if something did (a reset, a wrong answer).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _client.Dispose();
        _stop.Dispose();
    }
}
