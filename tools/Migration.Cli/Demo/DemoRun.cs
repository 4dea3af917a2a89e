using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Migration.Host;
using Migration.Host.Api;
using Migration.Host.Client;
using Spectre.Console;

namespace Migration.Cli.Demo;

/// <summary>
/// The toolkit at work in one command: two hosts (daemon processes), the kv guest under a client load, migrated back and
/// forth, then stopped into a checkpoint and resumed; a table of what each move cost the guest and its clients, and a
/// check that the counters the guest holds equal the replies the clients got.
/// </summary>
internal sealed class DemoRun(int migrations, ulong memory, TimeSpan interval, TextWriter progress)
{
    private const int Clients = 8;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await progress.WriteLineAsync("starting hosts a and b").ConfigureAwait(false);
        // Without the privilege TCP repair needs, the clients reach the VM through a relay, which keeps their
        // connections as well; with it, the hosts choose repair themselves.
        await using var hosts = await HostPair.StartAsync("auto", progress, cancellationToken).ConfigureAwait(false);
        return await RunOnAsync([(hosts[0], hosts.Client(0)), (hosts[1], hosts.Client(1))], hosts.Directory, hosts.Network, cancellationToken).ConfigureAwait(false);
    }

    private static string Ms(double value) => value.ToString("F1", CultureInfo.InvariantCulture);

    private async Task<int> RunOnAsync((DemoHost Host, ApiClient Client)[] hosts, string directory, NetworkBackend network, CancellationToken cancellationToken)
    {
        var (host, client) = hosts[0];
        await progress.WriteLineAsync($"hosts a and b are up; network backend {network.ToString().ToLowerInvariant()}").ConfigureAwait(false);
        var vm = await client.CreateVmAsync(new CreateVmRequest(GuestImages.Find("kv"), memory, ["6379:0"], Name: "kv"), cancellationToken).ConfigureAwait(false);
        var server = await VmOperations.ListenerAsync(client, vm.Id, 6379, cancellationToken).ConfigureAwait(false);
        await progress.WriteLineAsync($"kv ({vm.Id}, {memory >> 20} MiB) listens on {server} on host {host.Name}; {Clients} clients increment their counters").ConfigureAwait(false);

        await using var load = new KvLoad(server, Clients);
        var steps = new List<(DemoStep Step, long From, long To)>();
        long requestsBefore = 0;
        long errorsBefore = 0;
        void Record(string step, string where, double total, double? downtime, long from, long to)
        {
            var requests = load.Requests;
            var errors = load.Errors;
            steps.Add((new DemoStep(step, where, total, downtime, 0, requests - requestsBefore, errors - errorsBefore), from, to));
            requestsBefore = requests;
            errorsBefore = errors;
        }

        for (var i = 0; i < migrations; i++)
        {
            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
            var (target, targetClient) = hosts[(i + 1) % 2];
            var from = Stopwatch.GetTimestamp();
            var result = await VmOperations.MigrateAsync(client, vm.Id, new MigrateVmRequest(target.MigrationEndpoint), $"migration {i + 1}", cancellationToken).ConfigureAwait(false);
            var to = Stopwatch.GetTimestamp();
            Record($"migration {i + 1}", $"{host.Name} → {target.Name}", result.TotalMilliseconds, result.DowntimeMilliseconds, from, to);
            await progress.WriteLineAsync($"migration {i + 1}: {host.Name} → {target.Name} in {Ms(result.TotalMilliseconds)} ms, guest paused {Ms(result.DowntimeMilliseconds)} ms").ConfigureAwait(false);
            (host, client) = (target, targetClient);
        }

        await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        var saveFrom = Stopwatch.GetTimestamp();
        var save = await client.CheckpointVmAsync(vm.Id, new CheckpointRequest(Path.Combine(directory, "checkpoints"), Stop: true), cancellationToken).ConfigureAwait(false);
        var saved = (await VmOperations.FinishAsync(client, save, "the stop checkpoint", cancellationToken).ConfigureAwait(false)).Deserialize(HostJsonContext.Default.CheckpointJobResult)!;
        var restored = await client.RestoreVmAsync(new RestoreVmRequest(saved.File, ["6379:0"], "kv", vm.Id), cancellationToken).ConfigureAwait(false);
        var saveTo = Stopwatch.GetTimestamp();
        var resumedOn = await VmOperations.ListenerAsync(client, restored.Id, 6379, cancellationToken).ConfigureAwait(false);
        Record("checkpoint + resume", host.Name, Stopwatch.GetElapsedTime(saveFrom, saveTo).TotalMilliseconds, null, saveFrom, saveTo);
        await progress.WriteLineAsync($"checkpoint {Path.GetFileName(saved.File)} ({saved.Bytes:N0} bytes) and resume on {host.Name} as {restored.Id}, listening on {resumedOn}").ConfigureAwait(false);

        await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        await load.StopAsync().ConfigureAwait(false);
        var rows = steps.Select(s => s.Step with { GapMilliseconds = load.LargestGap(s.From, s.To).TotalMilliseconds }).ToList();
        var mismatches = await CheckCountersAsync(load, resumedOn, cancellationToken).ConfigureAwait(false);

        AnsiConsole.Write(Table(rows));
        var downtimes = rows.Where(r => r.DowntimeMilliseconds is not null).Select(r => r.DowntimeMilliseconds!.Value).Order().ToList();
        var gaps = rows.Where(r => r.DowntimeMilliseconds is not null).Select(r => r.GapMilliseconds).Order().ToList();
        var summary = new StringBuilder();
        summary.Append(CultureInfo.InvariantCulture, $"{load.Requests:N0} requests answered, {load.Errors} client errors, {load.Unanswered} unanswered; ");
        summary.Append(CultureInfo.InvariantCulture, $"migrations: guest downtime median {Ms(downtimes[downtimes.Count / 2])} ms, client gap median {Ms(gaps[gaps.Count / 2])} ms (worst {Ms(gaps[^1])} ms); ");
        summary.Append(mismatches.Count == 0 ? "every counter in the guest equals the replies its client got" : "counters differ: " + string.Join("; ", mismatches));
        Console.Out.WriteLine(summary.ToString());
        if (load.LastError is { } last)
        {
            Console.Out.WriteLine($"last client error: {last}");
        }

        return mismatches.Count == 0 ? 0 : 1;
    }

    private static async Task<List<string>> CheckCountersAsync(KvLoad load, IPEndPoint server, CancellationToken cancellationToken)
    {
        var mismatches = new List<string>();
        using var connection = new System.Net.Sockets.TcpClient();
        await connection.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        var stream = connection.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        for (var i = 0; i < load.Connections; i++)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {KvLoad.Key(i)}\r\n"), cancellationToken).ConfigureAwait(false);
            var header = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            var value = header == "$-1" ? "0" : await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (value != load.Confirmed(i).ToString(CultureInfo.InvariantCulture))
            {
                mismatches.Add($"{KvLoad.Key(i)} is {value}, its client got {load.Confirmed(i)} replies");
            }
        }

        return mismatches;
    }

    private static Table Table(List<DemoStep> rows)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var heading in new[] { "step", "where", "total ms", "downtime ms", "client gap ms", "requests", "errors" })
        {
            table.AddColumn(new TableColumn(new Text(heading)) { Alignment = heading is "step" or "where" ? Justify.Left : Justify.Right });
        }

        foreach (var row in rows)
        {
            table.AddRow(
                new Text(row.Step), new Text(row.Where), new Text(Ms(row.TotalMilliseconds)),
                new Text(row.DowntimeMilliseconds is { } d ? Ms(d) : "—"), new Text(Ms(row.GapMilliseconds)),
                new Text(row.Requests.ToString("N0", CultureInfo.InvariantCulture)), new Text(row.Errors.ToString(CultureInfo.InvariantCulture)));
        }

        return table;
    }
}
