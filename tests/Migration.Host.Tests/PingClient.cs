using System.Diagnostics;
using System.Net.Sockets;

namespace Migration.Host.Tests;

/// <summary>
/// A client of the kv guest that sends PING after PING on one connection and notes when each reply arrived: the largest
/// pause between two replies around a migration is the gap a client observes. Any error ends it, and is kept.
/// </summary>
internal sealed class PingClient : IDisposable
{
    private static readonly byte[] Ping = "*1\r\n$4\r\nPING\r\n"u8.ToArray();
    private static readonly byte[] Pong = "+PONG\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly List<long> _replies = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public PingClient(Socket socket, TimeSpan limit)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _socket.ReceiveTimeout = 30_000;
        _loop = Task.Factory.StartNew(() => Run(limit), TaskCreationOptions.LongRunning);
    }

    public Exception? Error { get; private set; }

    public int Count
    {
        get
        {
            lock (_replies)
            {
                return _replies.Count;
            }
        }
    }

    /// <summary>Waits (bounded) until a reply arrives after <paramref name="timestamp"/>: the connection works after that moment.</summary>
    public async Task WaitForReplyAfterAsync(long timestamp, TimeSpan limit)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            lock (_replies)
            {
                if (_replies.Count > 0 && _replies[^1] > timestamp)
                {
                    return;
                }
            }

            if (_loop.IsCompleted)
            {
                throw new InvalidOperationException($"the ping client stopped: {Error?.Message ?? "without an error"}");
            }

            await Task.Delay(5);
        }

        throw new TimeoutException($"no PONG within {limit.TotalSeconds} s after the migration (ping client error: {Error?.Message ?? "none"})");
    }

    /// <summary>The longest pause between consecutive replies whose second reply came in (from, to].</summary>
    public TimeSpan LargestGapEndingIn(long from, long to)
    {
        lock (_replies)
        {
            var largest = 0L;
            for (var i = 1; i < _replies.Count; i++)
            {
                if (_replies[i] > from && _replies[i] <= to)
                {
                    largest = Math.Max(largest, _replies[i] - _replies[i - 1]);
                }
            }

            return TimeSpan.FromSeconds((double)largest / Stopwatch.Frequency);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _loop.Wait(TimeSpan.FromSeconds(30));
        _stop.Dispose();
    }

    private void Run(TimeSpan limit)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        var buffer = new byte[Pong.Length];
        try
        {
            while (!_stop.IsCancellationRequested && Stopwatch.GetTimestamp() < deadline)
            {
                _socket.Send(Ping);
                var read = 0;
                while (read < buffer.Length)
                {
                    var n = _socket.Receive(buffer, read, buffer.Length - read, SocketFlags.None);
                    if (n == 0)
                    {
                        throw new IOException($"the server closed the connection after {Count} replies");
                    }

                    read += n;
                }

                if (!buffer.AsSpan().SequenceEqual(Pong))
                {
                    throw new IOException($"reply {Count + 1} was not +PONG");
                }

                lock (_replies)
                {
                    _replies.Add(Stopwatch.GetTimestamp());
                }
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            if (!_stop.IsCancellationRequested)
            {
                Error = e;
            }
        }
    }
}
