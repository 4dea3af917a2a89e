using System.Net;
using System.Text;
using Migration.Host;
using Migration.Host.Api;
using Migration.Host.Client;
using Migration.Networking.Relay;
using Migration.Networking.Repair;

namespace Migration.Cli.Demo;

/// <summary>
/// Two hosts on this machine, as the demo and the downtime benchmark run them: <c>migration host</c> daemon processes
/// a and b in a temporary directory with a fresh shared secret, on the socket backend asked for — and, for the relay,
/// the relay in this process.
/// </summary>
internal sealed class HostPair : IAsyncDisposable
{
    private readonly string _directory;
    private readonly RelayServer? _relay;
    private readonly DemoHost[] _hosts;
    private readonly ApiClient[] _clients;

    private HostPair(string directory, RelayServer? relay, DemoHost[] hosts, NetworkBackend network)
    {
        _directory = directory;
        _relay = relay;
        _hosts = hosts;
        _clients = [.. hosts.Select(h => h.Client())];
        Network = network;
    }

    /// <summary>The backend the hosts use, as they report it.</summary>
    public NetworkBackend Network { get; }

    public string Directory => _directory;

    public DemoHost this[int index] => _hosts[index];

    public ApiClient Client(int index) => _clients[index];

    /// <param name="backend">
    /// <c>auto</c>: TCP repair where this process may use it, else the relay (connections survive either way);
    /// <c>repair</c>, <c>relay</c> or <c>plain</c>: that one, and an error naming the reason when repair is not available.
    /// </param>
    public static async Task<HostPair> StartAsync(string backend, TextWriter progress, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new InvalidOperationException("the hosts run on Linux");
        }

        var directory = System.IO.Directory.CreateTempSubdirectory("migration-hosts-").FullName;
        RelayServer? relay = null;
        try
        {
            var secret = Path.Combine(directory, "secret");
            // The hosts refuse a secret file others can read: create it owner-only from the start.
            var secretStream = new FileStream(secret, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
            await using (secretStream.ConfigureAwait(false))
            {
                await secretStream.WriteAsync(Encoding.ASCII.GetBytes(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))), cancellationToken).ConfigureAwait(false);
            }

            var repairUnavailable = RepairSupport.Probe();
            string[] options;
            switch (backend)
            {
                case "auto" when repairUnavailable is null:
                    options = [];
                    break;
                case "auto" or "relay":
                    relay = StartRelay(secret);
                    options = ["--network", "relay", "--relay", relay.Endpoint.ToString()];
                    await progress.WriteLineAsync(backend == "auto"
                        ? $"TCP repair is not available ({repairUnavailable}): the hosts use a relay at {relay.Endpoint}"
                        : $"relay at {relay.Endpoint}").ConfigureAwait(false);
                    break;
                case "repair" when repairUnavailable is not null:
                    throw new InvalidOperationException($"backend repair: TCP repair is not available here: {repairUnavailable}");
                case "repair" or "plain":
                    options = ["--network", backend];
                    break;
                default:
                    throw new ArgumentException($"backend '{backend}' is none of auto, repair, relay, plain", nameof(backend));
            }

            var starting = new[] { DemoHost.StartAsync("a", directory, secret, options, cancellationToken), DemoHost.StartAsync("b", directory, secret, options, cancellationToken) };
            await ((Task)Task.WhenAll(starting)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (starting.FirstOrDefault(t => !t.IsCompletedSuccessfully) is { } failed)
            {
                foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
                {
                    started.Result.Dispose();
                }

                await failed.ConfigureAwait(false);
            }

            DemoHost[] hosts = [starting[0].Result, starting[1].Result];
            using var probe = hosts[0].Client();
            var network = (await probe.GetHostAsync(cancellationToken).ConfigureAwait(false)).Network;
            return new HostPair(directory, relay, hosts, network);
        }
        catch
        {
            if (relay is not null)
            {
                await relay.DisposeAsync().ConfigureAwait(false);
            }

            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        foreach (var host in _hosts)
        {
            host.Dispose();
        }

        if (_relay is not null)
        {
            await _relay.DisposeAsync().ConfigureAwait(false);
        }

        System.IO.Directory.Delete(_directory, recursive: true);
    }

    private static RelayServer StartRelay(string secret)
    {
        using var key = HostSecret.Load(secret);
        return RelayServer.Start(new IPEndPoint(IPAddress.Loopback, 0), key.Key.ToArray());
    }
}
