using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Migration.Cli.Bench;

namespace Migration.Cli.Demo;

/// <summary>
/// The demo's own client load on the kv guest: a few connections, each incrementing a counter of its own in a loop
/// (INCR, one request in flight). Every reply is timestamped, per connection, so a migration's pause shows as the
/// longest gap any one client saw; afterwards the counters the guest holds must equal the replies the clients got.
/// A connection that fails is counted as an error and opened again.
/// </summary>
internal sealed class KvLoad : IAsyncDisposable
{
    private readonly IPEndPoint _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _clients;
    private readonly long[] _confirmed;
    private long _errors;
    private long _unanswered;
    private bool _stopping;
    private string? _lastError;

    public KvLoad(IPEndPoint server, int connections)
    {
        _server = server;
        _confirmed = new long[connections];
        Timelines = [.. Enumerable.Range(0, connections).Select(_ => new ReplyTimeline())];
        _clients = [.. Enumerable.Range(0, connections).Select(i => Task.Run(() => RunAsync(i, _stop.Token)))];
    }

    public IReadOnlyList<ReplyTimeline> Timelines { get; }

    public long Requests => Enumerable.Range(0, Connections).Sum(Confirmed);

    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>INCRs the guest applied whose reply a failed connection lost.</summary>
    public long Unanswered => Interlocked.Read(ref _unanswered);

    public string? LastError => Volatile.Read(ref _lastError);

    public static string Key(int client) => string.Create(CultureInfo.InvariantCulture, $"demo:client:{client}");

    /// <summary>The replies client <paramref name="client"/> got: the value its counter must have.</summary>
    public long Confirmed(int client) => Interlocked.Read(ref _confirmed[client]);

    public int Connections => _confirmed.Length;

    /// <summary>The longest time any one client waited for a reply across [from, to].</summary>
    public TimeSpan LargestGap(long from, long to) => Timelines.Max(t => t.LargestGap(from, to));

    /// <summary>Lets each client finish the request it has in flight, so every INCR the guest applied has its reply.</summary>
    public async Task StopAsync()
    {
        Volatile.Write(ref _stopping, true);
        try
        {
            await Task.WhenAll(_clients).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        finally
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_clients).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task RunAsync(int client, CancellationToken cancellationToken)
    {
        var request = Encoding.ASCII.GetBytes($"INCR {Key(client)}\r\n");
        var buffer = new byte[64];
        while (!Volatile.Read(ref _stopping) && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var connection = new TcpClient { NoDelay = true };
                await connection.ConnectAsync(_server, cancellationToken).ConfigureAwait(false);
                var stream = connection.GetStream();
                await SyncAsync(client, stream, buffer, cancellationToken).ConfigureAwait(false);
                while (!Volatile.Read(ref _stopping))
                {
                    await stream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
                    var expected = Confirmed(client) + 1;
                    var reply = await ReadLineAsync(stream, buffer, cancellationToken).ConfigureAwait(false);
                    if (reply != string.Create(CultureInfo.InvariantCulture, $":{expected}"))
                    {
                        throw new InvalidDataException($"client {client}: INCR answered \"{reply}\", expected :{expected}");
                    }

                    Interlocked.Increment(ref _confirmed[client]);
                    Timelines[client].Mark(Stopwatch.GetTimestamp());
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidDataException)
            {
                Interlocked.Increment(ref _errors);
                Volatile.Write(ref _lastError, e.Message);
                // A reset the backend could not avoid (the plain one resets connections at a move): open another.
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// On a new connection, takes the counter's value from the guest: an INCR whose reply a reset lost may have been
    /// applied, and is counted as unanswered rather than breaking the count that follows.
    /// </summary>
    private async Task SyncAsync(int client, NetworkStream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {Key(client)}\r\n"), cancellationToken).ConfigureAwait(false);
        var header = await ReadLineAsync(stream, buffer, cancellationToken).ConfigureAwait(false);
        var value = header == "$-1" ? 0 : long.Parse(await ReadLineAsync(stream, buffer, cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        var missing = value - Confirmed(client);
        if (missing != 0)
        {
            Interlocked.Add(ref _unanswered, missing);
            Interlocked.Exchange(ref _confirmed[client], value);
        }
    }

    /// <summary>One RESP line (without CRLF); a reply is a few bytes, so reading byte by byte costs little here.</summary>
    private static async Task<string> ReadLineAsync(NetworkStream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                throw new InvalidDataException("a reply line longer than 64 bytes");
            }

            await stream.ReadExactlyAsync(buffer.AsMemory(length, 1), cancellationToken).ConfigureAwait(false);
            length++;
            if (length >= 2 && buffer[length - 2] == '\r' && buffer[length - 1] == '\n')
            {
                return Encoding.ASCII.GetString(buffer, 0, length - 2);
            }
        }
    }
}
