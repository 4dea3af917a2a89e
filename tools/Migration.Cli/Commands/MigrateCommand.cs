using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Migration.Host.Api;

namespace Migration.Cli.Commands;

/// <summary>
/// <c>migration migrate --api ADDR ID --to HOST:PORT [--downtime 30ms] [--max-bandwidth RATE] [--compress] [--json]</c>: live-migrates a
/// VM to another daemon, showing the rounds while they run, and prints the report.
/// </summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var id = ApiOptions.VmId();
        var api = ApiOptions.Api();
        var to = new Option<string>("--to") { Description = "the destination daemon's migration endpoint, e.g. 127.0.0.1:7001", Required = true };
        var downtime = new Option<TimeSpan?>("--downtime")
        {
            Description = "downtime target for the final stop-and-copy (default 30ms)",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!Duration.TryParse(text, out var value) || value <= TimeSpan.Zero)
                {
                    result.AddError($"--downtime: '{text}' is not a positive duration (examples: 30ms, 1s)");
                }

                return value;
            },
        };
        var bandwidth = new Option<ulong?>("--max-bandwidth")
        {
            Description = "cap on pre-copy bytes per second (e.g. 100M = 100 MiB/s); stop-and-copy is never capped",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!ByteSize.TryParse(text.TrimEnd('s').TrimEnd('/'), out var value) || value == 0 || value > long.MaxValue)
                {
                    result.AddError($"--max-bandwidth: '{text}' is not a rate (examples: 500M, 1G, 64MiB/s)");
                }

                return value;
            },
        };
        var compress = new Option<bool>("--compress") { Description = "LZ4-compress non-zero pages (off by default: raw pages cross loopback faster)" };
        var json = new Option<bool>("--json") { Description = "print the report as JSON" };
        var command = new Command("migrate", "Live-migrate a VM to another host's daemon and print the report") { id, api, to, downtime, bandwidth, compress, json };
        command.SetAction((parse, token) => ApiCommand.RunAsync(parse.GetValue(api)!, async client =>
        {
            var vm = parse.GetValue(id)!;
            var request = new MigrateVmRequest(parse.GetValue(to), parse.GetValue(downtime)?.TotalMilliseconds, (long?)parse.GetValue(bandwidth), parse.GetValue(compress) ? true : null);
            var job = await client.MigrateVmAsync(vm, request, token).ConfigureAwait(false);
            var final = await JobProgressDisplay.FollowAsync(client, job, $"migration of {vm}", token).ConfigureAwait(false);
            if (final.State != JobState.Succeeded || final.Result is not { } element)
            {
                await Console.Error.WriteLineAsync($"migration: {final.Error ?? $"job {final.Id} ended {final.State}"}").ConfigureAwait(false);
                return 1;
            }

            var report = element.Deserialize(HostJsonContext.Default.MigrationJobResult)!;
            await Console.Out.WriteAsync(parse.GetValue(json) ? element.GetRawText() + "\n" : Format(vm, report)).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }

    internal static string Format(string vm, MigrationJobResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"{vm} migrated to {r.To} in {r.TotalMilliseconds:F1} ms; guest paused {r.DowntimeMilliseconds:F2} ms (target {r.DowntimeTargetMilliseconds:F0} ms, {(r.DowntimeTargetMet ? "met" : "missed")})");
        text.AppendLine(c, $"{r.BytesSent:N0} bytes for {r.PagesSent:N0} pages, {r.GigabytesPerSecond:F2} GB/s, compression ratio {r.CompressionRatio:F2}, switch-over: {r.Switchover}");
        if (r.AutoConverged)
        {
            text.AppendLine(c, $"auto-converge throttled the vCPU up to {r.MaxThrottle:P0}");
        }

        text.AppendLine("round      pages          bytes        ms   dirty at end  throttle");
        foreach (var round in r.Rounds)
        {
            var label = round.StopAndCopy ? $"{round.Round} (stop)" : round.Round.ToString(c);
            text.AppendLine(c, $"{label,-8} {round.Pages,8:N0} {round.Bytes,14:N0} {round.Milliseconds,9:F1} {round.DirtyPagesAtEnd,14:N0} {round.Throttle,9:P0}");
        }

        return text.ToString();
    }
}
