using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Migration.Cli.Bench;

/// <summary>
/// A client that times a Redis-protocol server's replies: one connection sends PING, waits for +PONG, and marks the
/// <see cref="Timeline"/>, over and over, so a migration's pause shows as the largest gap between replies. It does
/// not reconnect: a connection the server lost ends the probe with the error, which is what a continuity test wants
/// to see.
/// </summary>
internal sealed class PingProbe : IAsyncDisposable
{
    private static readonly byte[] Ping = "PING\r\n"u8.ToArray();
    private static readonly byte[] Pong = "+PONG\r\n"u8.ToArray();

    private readonly TcpClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private PingProbe(TcpClient client)
    {
        _client = client;
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    public ReplyTimeline Timeline { get; } = new();

    /// <summary>What ended the probe before it was stopped (a reset, an end of stream), or null while it runs.</summary>
    public string? Failure => _loop.IsFaulted ? _loop.Exception?.InnerException?.Message : null;

    public static async Task<PingProbe> StartAsync(IPEndPoint server, CancellationToken cancellationToken = default)
    {
        var client = new TcpClient(server.AddressFamily) { NoDelay = true };
        try
        {
            await client.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            client.Dispose();
            throw;
        }

        return new PingProbe(client);
    }

    /// <summary>Stops the loop; throws what ended it early (a reset, an end of stream, a wrong reply).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _client.Dispose();
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var stream = _client.GetStream();
        var reply = new byte[Pong.Length];
        while (!cancellationToken.IsCancellationRequested)
        {
            await stream.WriteAsync(Ping, cancellationToken).ConfigureAwait(false);
            await stream.ReadExactlyAsync(reply, cancellationToken).ConfigureAwait(false);
            if (!reply.AsSpan().SequenceEqual(Pong))
            {
                throw new InvalidDataException($"the server answered PING with \"{Encoding.ASCII.GetString(reply).TrimEnd()}\" after {Timeline.Count} replies");
            }

            Timeline.Mark();
        }
    }
}
