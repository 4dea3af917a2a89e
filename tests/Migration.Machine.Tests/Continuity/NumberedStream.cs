using System.Diagnostics;
using System.Net.Sockets;
using Migration.Cli.Bench;

namespace Migration.Machine.Tests.Continuity;

/// <summary>
/// A numbered byte stream sent through an echoing peer and checked on its way back: the stream is consecutive 64-bit
/// little-endian word numbers, so a lost, repeated or reordered byte anywhere shows at its offset. Sending runs at a
/// given rate (or as fast as the peer takes it) until <see cref="FinishAsync"/>; every read of echoed bytes marks the
/// <see cref="Timeline"/>.
/// </summary>
internal sealed class NumberedStream : IAsyncDisposable
{
    private const int ChunkBytes = 64 * 1024;
    private const int PacedChunkBytes = 1024;

    private readonly Socket _socket;
    private readonly long? _bytesPerSecond;
    private readonly long _limit;
    private readonly CancellationTokenSource _stopSending = new();
    private readonly TaskCompletionSource _startReading = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _sender;
    private readonly Task _receiver;
    private long _sent;
    private long _received;

    /// <param name="bytesPerSecond">Null: as fast as the peer takes it.</param>
    /// <param name="limit">Bytes at most, whatever the rate: a bound on the run.</param>
    /// <param name="readAtOnce">False: echoed bytes stay unread (filling every queue on the way) until <see cref="StartReading"/>.</param>
    public NumberedStream(Socket socket, long? bytesPerSecond, long limit, bool readAtOnce = true)
    {
        _socket = socket;
        _bytesPerSecond = bytesPerSecond;
        _limit = limit;
        if (readAtOnce)
        {
            StartReading();
        }

        _sender = Task.Run(SendAsync);
        _receiver = Task.Run(ReceiveAsync);
    }

    public ReplyTimeline Timeline { get; } = new();

    public long Sent => Interlocked.Read(ref _sent);

    public long Received => Interlocked.Read(ref _received);

    public void StartReading() => _startReading.TrySetResult();

    /// <summary>Completes once every byte up to the limit has been sent (or sending stopped).</summary>
    public Task SentAll => _sender;

    /// <summary>Stops sending, shuts the write side, and waits for every byte to come back; throws what went wrong.</summary>
    public async Task FinishAsync(TimeSpan limit)
    {
        StartReading();
        await _stopSending.CancelAsync();
        try
        {
            await _sender.WaitAsync(limit);
            _socket.Shutdown(SocketShutdown.Send);
            await _receiver.WaitAsync(limit);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"the stream did not end within {limit.TotalSeconds:0} s: sent {Sent} bytes, {Received} came back", e);
        }

        if (Received != Sent)
        {
            throw new InvalidDataException($"sent {Sent} bytes, {Received} came back before the end of the stream");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopSending.CancelAsync();
        _startReading.TrySetCanceled();
        _socket.Dispose();
        await Task.WhenAll(_sender, _receiver).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopSending.Dispose();
    }

    private static void Fill(Span<byte> buffer, long offset)
    {
        for (var i = 0; i < buffer.Length; i++)
        {
            var at = offset + i;
            buffer[i] = (byte)((ulong)(at / 8) >> (int)(8 * (at % 8)));
        }
    }

    private async Task SendAsync()
    {
        var token = _stopSending.Token;
        var chunk = new byte[_bytesPerSecond is null ? ChunkBytes : PacedChunkBytes];
        var clock = Stopwatch.StartNew();
        try
        {
            while (!token.IsCancellationRequested && _sent < _limit)
            {
                if (_bytesPerSecond is { } rate)
                {
                    var due = TimeSpan.FromSeconds((double)_sent / rate) - clock.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, token);
                    }
                }

                var length = (int)Math.Min(chunk.Length, _limit - _sent);
                Fill(chunk.AsSpan(0, length), _sent);
                // Not cancellable: a send cut off half-way would leave the count of bytes sent unknown.
                await _socket.SendAsync(chunk.AsMemory(0, length), CancellationToken.None);
                Interlocked.Add(ref _sent, length);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    private async Task ReceiveAsync()
    {
        await _startReading.Task;
        var buffer = new byte[ChunkBytes];
        var expected = new byte[ChunkBytes];
        while (true)
        {
            var read = await _socket.ReceiveAsync(buffer);
            if (read == 0)
            {
                return;
            }

            Timeline.Mark();
            Fill(expected.AsSpan(0, read), _received);
            var mismatch = buffer.AsSpan(0, read).CommonPrefixLength(expected.AsSpan(0, read));
            if (mismatch < read)
            {
                throw new InvalidDataException(
                    $"byte {_received + mismatch} came back as 0x{buffer[mismatch]:x2}, expected 0x{expected[mismatch]:x2} (word {(_received + mismatch) / 8})");
            }

            Interlocked.Add(ref _received, read);
        }
    }
}
