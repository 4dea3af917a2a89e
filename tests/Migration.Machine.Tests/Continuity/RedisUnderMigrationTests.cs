using System.Diagnostics;
using System.Globalization;
using System.Net;
using Migration.Cli.Bench;
using Migration.Core.Transfer;
using Migration.Machine.RiscV;
using Migration.Machine.Tests.EndToEnd;
using Migration.Machine.Tests.Transfer;
using Migration.Networking.Repair;
using Xunit.Abstractions;

namespace Migration.Machine.Tests.Continuity;

/// <summary>
/// Connection continuity with TCP repair on loopback: unmodified redis-benchmark clients keep their connections while
/// the kv guest is migrated back and forth between hosts; every request is answered once (redis-benchmark exits on
/// the first connection error and never reconnects, and the INCR counter must equal the number of INCRs sent).
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(ContinuityCollection.Name)]
public sealed class RedisUnderMigrationTests(ITestOutputHelper output)
{
    private const int Migrations = 20;

    [Theory]
    [InlineData(1, 200_000)]
    [InlineData(16, 1_000_000)]
    public async Task Redis_benchmark_sees_no_error_while_the_kv_guest_migrates_twenty_times(int pipeline, int requests)
    {
        if (RepairSupport.Probe() is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return;
        }

        var benchmark = ExternalTool.Require("redis-benchmark", "redis-tools");
        var cli = ExternalTool.Require("redis-cli", "redis-tools");
        using var networkLock = NetworkLock.Open();
        var hosts = new RepairHosts(networkLock, 6379);
        using var console = new ConsoleCapture();
        var vm = RiscVMachine.Load(RepositoryPaths.Guest("kv"), hosts.Options(64UL << 20, console.Stream));
        var hostPort = (await RepairHosts.StartAsync(vm)).Port.ToString(CultureInfo.InvariantCulture);
        try
        {
            var load = ExternalTool.RunAsync(benchmark,
                ["-h", "127.0.0.1", "-p", hostPort, "-t", "set,get,incr", "-n", requests.ToString(CultureInfo.InvariantCulture),
                 "-c", "20", "-P", pipeline.ToString(CultureInfo.InvariantCulture), "-q"],
                TimeSpan.FromMinutes(2));

            // Our own client beside redis-benchmark's: it timestamps every reply, so each migration's pause shows as a gap.
            await using var probe = await PingProbe.StartAsync(new IPEndPoint(IPAddress.Loopback, int.Parse(hostPort, CultureInfo.InvariantCulture)));
            var windows = new List<(long From, long To)>();
            var downtimes = new List<double>();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            while (downtimes.Count < Migrations && !load.IsCompleted && !deadline.IsCancellationRequested)
            {
                await Task.Delay(50);
                var from = Stopwatch.GetTimestamp();
                var (report, next) = await LiveMigration.RunAsync(vm, build: hosts.Build(console.Stream));
                windows.Add((from, Stopwatch.GetTimestamp()));
                vm.Dispose();
                vm = next;
                downtimes.Add(report.GuestDowntime.TotalMilliseconds);
            }

            var (code, stdout, stderr) = await load;
            await probe.StopAsync();
            var gaps = windows.Select(w => probe.Timeline.LargestGap(w.From, w.To).TotalMilliseconds).Order().ToList();
            output.WriteLine(stdout);
            output.WriteLine($"{downtimes.Count} migrations under load; guest-visible downtime ms: {string.Join(", ", downtimes.Select(d => d.ToString("F1", CultureInfo.InvariantCulture)))}");
            if (gaps.Count > 0)
            {
                output.WriteLine($"client-observed gap ms: median {gaps[gaps.Count / 2]:F1}, worst {gaps[^1]:F1} (sorted: {string.Join(", ", gaps.Select(g => g.ToString("F1", CultureInfo.InvariantCulture)))})");
            }

            Assert.True(code == 0, $"redis-benchmark exited {code} after {downtimes.Count} migrations: {stderr}\n{stdout}");
            Assert.DoesNotContain("rror", stdout + stderr, StringComparison.Ordinal);
            Assert.True(downtimes.Count >= 5, $"only {downtimes.Count} migrations fitted in the benchmark's run");

            async Task<string> Cli(params string[] command)
            {
                var (c, o, e) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", hostPort, .. command], TimeSpan.FromSeconds(30));
                Assert.True(c == 0, $"redis-cli {string.Join(' ', command)} exited {c}: {e}");
                return o.TrimEnd('\n');
            }

            // redis-benchmark without -r uses one key per command; every INCR it sent was applied exactly once.
            Assert.Equal(requests.ToString(CultureInfo.InvariantCulture), await Cli("get", "counter:__rand_int__"));
            Assert.Equal("2", await Cli("dbsize"));
            Assert.DoesNotContain(networkLock.Locked(), e => e.Port == int.Parse(hostPort, CultureInfo.InvariantCulture));
        }
        finally
        {
            vm.Dispose();
        }
    }
}
