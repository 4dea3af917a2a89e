using System.Diagnostics;
using System.Globalization;
using System.Net;
using Migration.Cli.Demo;
using Migration.Host.Api;

namespace Migration.Cli.Bench;

/// <summary>
/// <c>bench downtime</c>: for each cell of the matrix, a guest created on one host and migrated back and forth between
/// two host processes on this machine, once per run, with what each migration cost read from its job result and — for
/// kv — from a client of our own beside the load.
/// </summary>
internal sealed class DowntimeBenchmark(DowntimeSettings settings, TextWriter progress)
{
    // Lets the kv load get going, and the dirty guest reach its rate, before the first measured migration.
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(500);

    // The longest wait for a dirty guest's first pass over its working set (see SettleTime).
    private static readonly TimeSpan FirstPassLimit = TimeSpan.FromSeconds(60);

    // Between runs, and after the last before the client's gaps are read: the guest runs on its new host a while.
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(300);

    private readonly Stopwatch _elapsed = new();

    public async Task<IReadOnlyList<DowntimeCellResult>> RunAsync(CancellationToken cancellationToken)
    {
        _elapsed.Start();
        var cells = settings.Cells().ToList();
        await Say($"{cells.Count} cells × {settings.Runs} runs").ConfigureAwait(false);
        var results = new List<DowntimeCellResult>();
        foreach (var group in cells.GroupBy(c => c.Backend))
        {
            await Say($"backend {group.Key}: starting hosts a and b").ConfigureAwait(false);
            await using var hosts = await HostPair.StartAsync(group.Key, progress, cancellationToken).ConfigureAwait(false);
            var network = hosts.Network.ToString().ToLowerInvariant();
            await Say($"backend {group.Key}: the hosts use {network}; warming up").ConfigureAwait(false);
            await WarmUpAsync(hosts, cancellationToken).ConfigureAwait(false);
            foreach (var cell in group)
            {
                var result = await MeasureAsync(hosts, network, cell, $"[{results.Count + 1}/{cells.Count}]", cancellationToken).ConfigureAwait(false);
                results.Add(result);
            }
        }

        return results;
    }

    private static string Ms(double value) => value.ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>
    /// The first migrations of fresh daemons compile their code paths: a small kv guest with a client connected goes
    /// back and forth without and with compression first, so no cell's first run measures the compiler.
    /// </summary>
    private static async Task WarmUpAsync(HostPair hosts, CancellationToken cancellationToken)
    {
        var vm = await hosts.Client(0).CreateVmAsync(new CreateVmRequest(GuestImages.Find("kv"), 16UL << 20, ["6379:0"], Name: "warm-up"), cancellationToken).ConfigureAwait(false);
        var server = await VmOperations.ListenerAsync(hosts.Client(0), vm.Id, 6379, cancellationToken).ConfigureAwait(false);
        await using (await PingProbe.StartAsync(server, cancellationToken).ConfigureAwait(false))
        {
            for (var i = 0; i < 4; i++)
            {
                var (from, to) = (i % 2, 1 - (i % 2));
                await VmOperations.MigrateAsync(hosts.Client(from), vm.Id, new MigrateVmRequest(hosts[to].MigrationEndpoint, Compress: i >= 2), "a warm-up migration", cancellationToken).ConfigureAwait(false);
            }
        }

        await hosts.Client(0).DeleteVmAsync(vm.Id, cancellationToken).ConfigureAwait(false);
    }

    private async Task<DowntimeCellResult> MeasureAsync(HostPair hosts, string network, DowntimeCell cell, string position, CancellationToken cancellationToken)
    {
        var workload = cell.Workload;
        var kv = workload.Kind == DowntimeWorkloadKind.Kv;
        var side = 0;
        var vm = await hosts.Client(side).CreateVmAsync(
            new CreateVmRequest(GuestImages.Find(workload.Guest), cell.Memory, kv ? ["6379:0"] : null, workload.Args, Name: workload.Guest), cancellationToken).ConfigureAwait(false);
        try
        {
            IPEndPoint? server = null;
            if (kv)
            {
                server = await VmOperations.ListenerAsync(hosts.Client(side), vm.Id, 6379, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await VmOperations.WaitForConsoleAsync(hosts.Client(side), vm.Id, workload.ReadyText, cancellationToken).ConfigureAwait(false);
            }

            // Bounded in time as well as in requests: the whole cell, with room for slow migrations.
            await using var load = server is null ? null : KvClientLoad.Start(server, TimeSpan.FromMinutes(2 + (2 * settings.Runs)));
            await using var probe = server is null ? null : await PingProbe.StartAsync(server, cancellationToken).ConfigureAwait(false);
            await Task.Delay(SettleTime(workload), cancellationToken).ConfigureAwait(false);

            var reports = new List<(MigrationJobResult Report, long From, long To)>();
            for (var run = 0; run < settings.Runs; run++)
            {
                var from = Stopwatch.GetTimestamp();
                var report = await VmOperations.MigrateAsync(
                    hosts.Client(side), vm.Id, new MigrateVmRequest(hosts[1 - side].MigrationEndpoint, Compress: cell.Compress), $"{cell}, run {run + 1}", cancellationToken).ConfigureAwait(false);
                var to = Stopwatch.GetTimestamp();
                side = 1 - side;
                reports.Add((report, from, to));
                await Say($"{position} {cell}: run {run + 1}/{settings.Runs}: total {Ms(report.TotalMilliseconds)} ms, downtime {Ms(report.DowntimeMilliseconds)} ms, {report.Rounds.Count} rounds, {report.BytesSent:N0} bytes").ConfigureAwait(false);
                await Task.Delay(Interval, cancellationToken).ConfigureAwait(false);
            }

            // A probe that lost its connection (the plain backend resets them) has no gap to report for any run; a load
            // that failed leaves the probe's gaps valid, and is said beside them.
            var probeLost = probe?.Failure;
            var clientNote = probeLost is not null ? $"the probe's connection ended: {probeLost}" : load?.Failure;
            var runs = reports.Select(r => new DowntimeRun(
                r.Report.TotalMilliseconds,
                r.Report.DowntimeMilliseconds,
                probe is not null && probeLost is null ? probe.Timeline.LargestGap(r.From, r.To).TotalMilliseconds : null,
                r.Report.Rounds.Count,
                r.Report.BytesSent,
                cell.Memory / (r.Report.TotalMilliseconds / 1000) / 1e9)).ToList();
            if (clientNote is not null)
            {
                await Say($"{position} {cell}: no client-observed downtime: {clientNote}").ConfigureAwait(false);
            }

            return new DowntimeCellResult(cell, network, runs, load?.Description, clientNote);
        }
        finally
        {
            await hosts.Client(side).DeleteVmAsync(vm.Id, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// A dirty guest's working set is zero until its first pass writes it, and zero pages are not sent: until then a
    /// migration would move only the part written so far. The first run starts once one pass is done.
    /// </summary>
    private static TimeSpan SettleTime(DowntimeWorkload workload)
    {
        if (workload.Kind != DowntimeWorkloadKind.Dirty || workload.PagesPerSecond == 0)
        {
            return Settle;
        }

        var firstPass = TimeSpan.FromSeconds((double)workload.WorkingSetPages / workload.PagesPerSecond) + Settle;
        return firstPass < FirstPassLimit ? firstPass : FirstPassLimit;
    }

    private Task Say(string line) =>
        progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"[{_elapsed.Elapsed:m\\:ss}] {line}"));
}
