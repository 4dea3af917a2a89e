using System.Diagnostics;
using System.Globalization;
using Migration.Cli.Bench;
using Migration.Machine.RiscV;
using Migration.Machine.Tests.EndToEnd;
using Migration.Machine.Tests.Transfer;
using Xunit.Abstractions;

namespace Migration.Machine.Tests.Continuity;

/// <summary>
/// Connection continuity through the relay, with no privilege at all: unmodified redis-benchmark clients stay connected
/// to the relay while the kv guest is migrated back and forth between hosts twenty times; every request is answered
/// once (redis-benchmark exits on the first connection error and never reconnects; the INCR counter must equal the
/// INCRs sent). A PING client of our own measures the longest pause a client sees across each migration.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(ContinuityCollection.Name)]
public sealed class RelayUnderMigrationTests(ITestOutputHelper output)
{
    private const int Migrations = 20;

    [Theory]
    [InlineData(1, 200_000)]
    [InlineData(16, 1_000_000)]
    public async Task Redis_benchmark_through_the_relay_sees_no_error_while_the_kv_guest_migrates_twenty_times(int pipeline, int requests)
    {
        var benchmark = ExternalTool.Require("redis-benchmark", "redis-tools");
        var cli = ExternalTool.Require("redis-cli", "redis-tools");
        await using var hosts = new RelayHosts(6379);
        using var console = new ConsoleCapture();
        var vm = RiscVMachine.Load(RepositoryPaths.Guest("kv"), hosts.Options(64UL << 20, console.Stream));
        var endpoint = await RepairHosts.StartAsync(vm);
        // Bound comes before listen: the relay refuses clients until the guest listens, as a host would.
        await TransferSetup.WaitUntilAsync(() => console.Text.Contains("kv: listening", StringComparison.Ordinal), "kv listens", seconds: 20);
        var port = endpoint.Port.ToString(CultureInfo.InvariantCulture);
        try
        {
            await using var pinger = await PingProbe.StartAsync(endpoint);
            var load = ExternalTool.RunAsync(benchmark,
                ["-h", "127.0.0.1", "-p", port, "-t", "set,get,incr", "-n", requests.ToString(CultureInfo.InvariantCulture),
                 "-c", "20", "-P", pipeline.ToString(CultureInfo.InvariantCulture), "-q"],
                TimeSpan.FromMinutes(4));

            var downtimes = new List<double>();
            var windows = new List<(long From, long To)>();
            var underLoad = 0;
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            while (downtimes.Count < Migrations && !deadline.IsCancellationRequested)
            {
                await Task.Delay(50);
                hosts.PrepareNextHost();
                var from = Stopwatch.GetTimestamp();
                var (report, next) = await LiveMigration.RunAsync(vm, build: hosts.Build(console.Stream));
                windows.Add((from, Stopwatch.GetTimestamp()));
                vm.Dispose();
                vm = next;
                downtimes.Add(report.GuestDowntime.TotalMilliseconds);
                underLoad += load.IsCompleted ? 0 : 1;
            }

            var (code, stdout, stderr) = await load;
            await pinger.StopAsync();
            var gaps = windows.Select(w => pinger.Timeline.LargestGap(w.From, w.To).TotalMilliseconds).ToList();
            output.WriteLine(stdout);
            output.WriteLine($"{downtimes.Count} migrations, {underLoad} of them while redis-benchmark ran; {pinger.Timeline.Count} PING round trips");
            output.WriteLine($"guest-visible downtime ms: {Summary(downtimes)}");
            output.WriteLine($"client-observed gap ms:    {Summary(gaps)}");
            Assert.True(code == 0, $"redis-benchmark exited {code} after {downtimes.Count} migrations: {stderr}\n{stdout}");
            Assert.DoesNotContain("rror", stdout + stderr, StringComparison.Ordinal);
            Assert.Equal(Migrations, downtimes.Count);

            async Task<string> Cli(params string[] command)
            {
                var (c, o, e) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, .. command], TimeSpan.FromSeconds(30));
                Assert.True(c == 0, $"redis-cli {string.Join(' ', command)} exited {c}: {e}");
                return o.TrimEnd('\n');
            }

            // redis-benchmark without -r uses one key per command; every INCR it sent was applied exactly once.
            Assert.Equal(requests.ToString(CultureInfo.InvariantCulture), await Cli("get", "counter:__rand_int__"));
            Assert.Equal("2", await Cli("dbsize"));
        }
        finally
        {
            vm.Dispose();
        }
    }

    private static string Summary(List<double> values)
    {
        var sorted = values.Order().ToList();
        var median = sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        return string.Create(CultureInfo.InvariantCulture,
            $"median {median:F1}, worst {(sorted.Count == 0 ? 0 : sorted[^1]):F1}; each: {string.Join(", ", values.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))}");
    }
}
