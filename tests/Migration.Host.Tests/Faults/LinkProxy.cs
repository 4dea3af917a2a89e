using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Migration.Host.Tests.Faults;

/// <summary>
/// A TCP proxy on loopback between a migration source and its destination that misbehaves as a link can: it cuts the
/// connection after a number of bytes from the source, throttles them, or stops moving bytes while keeping both
/// connections open. One connection at a time; disposing it closes everything.
/// </summary>
internal sealed class LinkProxy : IAsyncDisposable
{
    private const int ChunkSize = 16 * 1024;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly long? _cutAfter;
    private readonly long? _stallAfter;
    private readonly long? _bytesPerSecond;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _faulted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Socket> _sockets = [];
    private readonly Task _serving;
    private long _forwarded;

    private LinkProxy(IPEndPoint target, long? cutAfter, long? stallAfter, long? bytesPerSecond)
    {
        _target = target;
        _cutAfter = cutAfter;
        _stallAfter = stallAfter;
        _bytesPerSecond = bytesPerSecond;
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public string Endpoint => _listener.LocalEndpoint.ToString()!;

    /// <summary>Completes when the link has been cut or has stalled.</summary>
    public Task Faulted => _faulted.Task;

    public long Forwarded => Interlocked.Read(ref _forwarded);

    /// <summary>Closes both connections with a reset once this many bytes from the source went through.</summary>
    public static LinkProxy CuttingAfter(IPEndPoint target, long bytes) => new(target, bytes, null, null);

    /// <summary>Stops moving bytes either way once this many bytes from the source went through; both connections stay open.</summary>
    public static LinkProxy StallingAfter(IPEndPoint target, long bytes) => new(target, null, bytes, null);

    public static LinkProxy Throttled(IPEndPoint target, long bytesPerSecond) => new(target, null, null, bytesPerSecond);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        await _serving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        var token = _stop.Token;
        using var source = await _listener.AcceptSocketAsync(token);
        var destination = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        lock (_sockets)
        {
            _sockets.Add(source);
            _sockets.Add(destination);
        }

        await destination.ConnectAsync(_target, token);
        var back = PumpAsync(destination, source, limited: false, token);
        var forth = PumpAsync(source, destination, limited: true, token);
        await Task.WhenAll(back, forth).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task PumpAsync(Socket from, Socket to, bool limited, CancellationToken token)
    {
        var buffer = new byte[ChunkSize];
        var clock = Stopwatch.StartNew();
        try
        {
            while (!token.IsCancellationRequested)
            {
                var want = buffer.Length;
                if (limited && (_cutAfter ?? _stallAfter) is { } limit)
                {
                    want = (int)Math.Min(want, limit - Forwarded);
                    if (want == 0)
                    {
                        await FaultAsync(from, to, token);
                        return;
                    }
                }

                if (!limited && _faulted.Task.IsCompleted)
                {
                    return;
                }

                var got = await from.ReceiveAsync(buffer.AsMemory(0, want), token);
                if (!limited && _faulted.Task.IsCompleted)
                {
                    // Stalled or cut: nothing more goes back to the source either.
                    return;
                }

                if (got == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, got), token);
                if (limited)
                {
                    var total = Interlocked.Add(ref _forwarded, got);
                    var ahead = _bytesPerSecond is { } rate ? TimeSpan.FromSeconds((double)total / rate) - clock.Elapsed : TimeSpan.Zero;
                    if (ahead > TimeSpan.Zero)
                    {
                        // The link's pace, not a wait for a condition: bytes leave no faster than the rate.
                        await Task.Delay(ahead, token);
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private async Task FaultAsync(Socket from, Socket to, CancellationToken token)
    {
        _faulted.TrySetResult();
        if (_cutAfter is not null)
        {
            // Linger 0: a reset, as when a cable is pulled and the peer's stack gives up, not an orderly end of stream.
            foreach (var socket in new[] { from, to })
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }

            return;
        }

        // A stall: hold both connections open and read nothing more until disposed.
        await Task.Delay(Timeout.Infinite, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
