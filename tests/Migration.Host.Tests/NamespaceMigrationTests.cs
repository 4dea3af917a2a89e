using System.Diagnostics;
using System.Globalization;
using System.Net;
using Migration.Host.Api;
using Migration.Networking.Repair;
using Xunit.Abstractions;

namespace Migration.Host.Tests;

/// <summary>
/// Hosts in separate network namespaces on one bridge (<c>tools/netlab.sh</c>), each daemon in its own namespace, the
/// migration channel over the bridge, and unmodified clients in a third namespace: the kv guest's service address moves
/// with it, twenty times, and redis-benchmark sees no error and no reconnect. Each case builds a lab of its own.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class NamespaceMigrationTests(ITestOutputHelper output) : IDisposable
{
    private const int Migrations = 20;

    private readonly string _directory = Directory.CreateTempSubdirectory("migration-netns-").FullName;

    [Theory]
    [InlineData(1, 200_000, "migt1", "10.78.1")]
    [InlineData(16, 2_000_000, "migt16", "10.78.16")]
    public async Task Redis_benchmark_in_the_client_namespace_sees_no_error_while_kv_moves_between_host_namespaces(int pipeline, int requests, string prefix, string subnet)
    {
        var missing = Netlab.Unavailable() ?? RepairSupport.Probe()
            ?? (ProcessRunner.Find("redis-benchmark") is null ? "redis-benchmark (redis-tools) is not installed" : null);
        if (missing is not null)
        {
            output.WriteLine($"skipped: {missing}");
            return;
        }

        using var lab = await Netlab.UpAsync(prefix, subnet);
        var secret = TestDaemon.WriteSecret(_directory, "the same secret on both hosts", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var a = await DaemonProcess.StartAsync("a", _directory, secret, lab.HostA, lab.Address(1));
        using var b = await DaemonProcess.StartAsync("b", _directory, secret, lab.HostB, lab.Address(2));
        using var clientA = a.Client();
        var service = lab.Address(100);
        var vm = await clientA.CreateVmAsync(new CreateVmRequest(
            RepositoryPaths.Guest("kv"), 64UL << 20, Ports: [$"6379:{service}:6379"], ServiceAddress: $"{service}/24@mig0"));
        await Eventually.UntilAsync(() => clientA.GetVmAsync(vm.Id), v => v.Ports.Any(p => p.Host is not null), "kv listens on the service address");

        using var ping = new PingClient(NetworkNamespace.Connect(lab.Client, new IPEndPoint(IPAddress.Parse(service), 6379)), TimeSpan.FromMinutes(4));
        await ping.WaitForReplyAfterAsync(Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(10));
        var load = ProcessRunner.RunAsync("ip",
            ["netns", "exec", lab.Client, "redis-benchmark", "-h", service, "-t", "set,get,incr", "-n", requests.ToString(CultureInfo.InvariantCulture),
             "-c", "20", "-P", pipeline.ToString(CultureInfo.InvariantCulture), "-q"],
            TimeSpan.FromMinutes(4));

        var figures = new MigrationFigures();
        var hosts = new[] { a, b };
        var underLoad = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (figures.Count < Migrations && !deadline.IsCancellationRequested)
        {
            var i = figures.Count;
            await figures.MigrateAsync(hosts[i % 2].Api, vm.Id, hosts[(i + 1) % 2].MigrationEndpoint, ping);
            underLoad += load.IsCompleted ? 0 : 1;
        }

        var (code, stdout, stderr) = await load;
        // -q redraws a progress line with carriage returns; its last line per test is the result.
        var results = stdout.Split('\r', '\n').Where(line => line.Contains("requests per second", StringComparison.Ordinal));
        output.WriteLine($"redis-benchmark -P {pipeline} -n {requests}: {string.Join("; ", results)}");
        output.WriteLine(figures.Summary());
        Assert.True(code == 0, $"redis-benchmark exited {code} after {figures.Count} migrations: {stderr}\n{stdout}\n{a.Log}\n{b.Log}");
        Assert.DoesNotContain("rror", stdout + stderr, StringComparison.Ordinal);
        Assert.Null(ping.Error);
        Assert.Equal(Migrations, underLoad);

        async Task<string> Cli(params string[] command)
        {
            var (c, o, e) = await ProcessRunner.RunAsync("ip", ["netns", "exec", lab.Client, "redis-cli", "-h", service, .. command], TimeSpan.FromSeconds(30));
            Assert.True(c == 0, $"redis-cli {string.Join(' ', command)} exited {c}: {e}");
            return o.TrimEnd('\n');
        }

        // Without -r redis-benchmark uses one key per command: every INCR it sent was applied exactly once.
        Assert.Equal(requests.ToString(CultureInfo.InvariantCulture), await Cli("get", "counter:__rand_int__"));
        Assert.Equal("2", await Cli("dbsize"));
        var last = hosts[Migrations % 2];
        using var lastClient = last.Client();
        Assert.Equal(service + "/24@mig0", (await lastClient.GetVmAsync(vm.Id)).ServiceAddress);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
