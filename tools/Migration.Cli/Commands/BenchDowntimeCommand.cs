using System.CommandLine;
using Migration.Cli.Bench;

namespace Migration.Cli.Commands;

/// <summary>
/// <c>migration bench downtime [--quick] [--runs N] [--memory LIST] [--workload LIST] [--backend LIST] [--compression LIST]
/// [--json FILE] [--chart FILE]</c>: the migration-downtime matrix between two host processes on this machine.
/// </summary>
internal static class BenchDowntimeCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "a small matrix (64 MiB and 256 MiB; idle, dirty:16M:10000, kv; 2 runs) in under two minutes" };
        var runs = new Option<int?>("--runs") { Description = "migrations per cell (default 5, with --quick 2)" };
        var memory = new Option<string?>("--memory") { Description = "guest memory sizes, comma-separated (default 256M,1G,4G)" };
        var workload = new Option<string?>("--workload") { Description = "idle, kv, dirty:WORKING-SET:PAGES-PER-SECOND, comma-separated (default idle,dirty:64M:2500,dirty:64M:10000,dirty:64M:40000,dirty:64M:160000,dirty:16M:40000,dirty:256M:40000,kv)" };
        var backend = new Option<string?>("--backend") { Description = "auto, repair, relay, plain, comma-separated (default auto: repair where allowed, else relay)" };
        var compression = new Option<string?>("--compression") { Description = "off, on or both: off,on (default off,on; with --quick off)" };
        var json = new Option<string>("--json") { Description = "where to write the JSON results", DefaultValueFactory = _ => DowntimeSettings.DefaultJsonPath };
        var chart = new Option<string>("--chart") { Description = "where to write the PNG chart", DefaultValueFactory = _ => DowntimeSettings.DefaultChartPath };
        var command = new Command("downtime", "Migrate guests of several sizes and workloads between two host processes; print a Markdown table, write JSON and a PNG chart")
        {
            quick, runs, memory, workload, backend, compression, json, chart,
        };
        command.SetAction(async (parse, token) =>
        {
            var defaults = parse.GetValue(quick) ? DowntimeSettings.Quick : DowntimeSettings.Full;
            string? error = null;
            var settings = defaults with
            {
                Runs = parse.GetValue(runs) ?? defaults.Runs,
                Memories = ParseList(parse.GetValue(memory), "--memory", defaults.Memories, ParseMemory, ref error),
                Workloads = ParseList(parse.GetValue(workload), "--workload", defaults.Workloads, ParseWorkload, ref error),
                Backends = ParseList(parse.GetValue(backend), "--backend", defaults.Backends, ParseBackend, ref error),
                Compression = ParseList(parse.GetValue(compression), "--compression", defaults.Compression, ParseCompression, ref error),
                JsonPath = parse.GetValue(json)!,
                ChartPath = parse.GetValue(chart)!,
            };
            if (error is null && settings.Runs is < 1 or > 100)
            {
                error = $"--runs: {settings.Runs} is outside 1..100";
            }

            if (error is null && !settings.Cells().Any())
            {
                error = "--workload: no working set fits in any --memory size";
            }

            if (error is not null)
            {
                await Console.Error.WriteLineAsync($"migration: {error}").ConfigureAwait(false);
                return 2;
            }

            return await RunAsync(settings, token).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(DowntimeSettings settings, CancellationToken cancellationToken)
    {
        IReadOnlyList<DowntimeCellResult> results;
        try
        {
            results = await new DowntimeBenchmark(settings, Console.Error).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or Host.Client.HostUnreachableException or Host.Api.ApiException)
        {
            await Console.Error.WriteLineAsync($"migration: bench downtime: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        await Console.Out.WriteAsync(DowntimeReport.Markdown(results, settings.Runs)).ConfigureAwait(false);
        try
        {
            foreach (var path in new[] { settings.JsonPath, settings.ChartPath })
            {
                if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } directory)
                {
                    Directory.CreateDirectory(directory);
                }
            }

            await File.WriteAllBytesAsync(settings.JsonPath, DowntimeReport.Json(results, settings), cancellationToken).ConfigureAwait(false);
            DowntimeChart.Save(results, settings.ChartPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"migration: bench downtime: writing the results: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        await Console.Error.WriteLineAsync($"migration: results in {settings.JsonPath}, chart in {settings.ChartPath}").ConfigureAwait(false);
        return 0;
    }

    private delegate bool ItemParser<T>(string text, out T value, out string error);

    /// <summary>The defaults when the option is absent; else every comma-separated item, or the first error.</summary>
    private static IReadOnlyList<T> ParseList<T>(string? text, string option, IReadOnlyList<T> defaults, ItemParser<T> parse, ref string? error)
    {
        if (text is null || error is not null)
        {
            return defaults;
        }

        var items = new List<T>();
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!parse(item, out var value, out var problem))
            {
                error = $"{option}: {problem}";
                return defaults;
            }

            if (!items.Contains(value))
            {
                items.Add(value);
            }
        }

        return items;
    }

    private static bool ParseMemory(string text, out ulong bytes, out string error)
    {
        error = $"'{text}' is not a memory size of whole 4 KiB pages from 16M to 64G (such as 256M or 1G)";
        return ByteSize.TryParse(text, out bytes) && bytes is >= 16UL << 20 and <= 64UL << 30 && bytes % 4096 == 0;
    }

    private static bool ParseWorkload(string text, out DowntimeWorkload workload, out string error) =>
        DowntimeWorkload.TryParse(text, out workload, out error);

    private static bool ParseBackend(string text, out string backend, out string error)
    {
        backend = text;
        error = $"'{text}' is none of {string.Join(", ", DowntimeSettings.BackendNames)}";
        return DowntimeSettings.BackendNames.Contains(text);
    }

    private static bool ParseCompression(string text, out bool compress, out string error)
    {
        compress = text == "on";
        error = $"'{text}' is neither on nor off";
        return text is "on" or "off";
    }
}
