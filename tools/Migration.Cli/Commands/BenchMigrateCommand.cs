using System.CommandLine;
using Migration.Cli.Bench;
using Migration.Core.Checkpoints;
using Migration.Core.Transfer;

namespace Migration.Cli.Commands;

/// <summary>
/// <c>migration bench migrate [--memory 1G] [--load FILE[@OFFSET]] [--runs N] [--downtime 20ms] [--dir DIR] [--json]</c>:
/// live migration to a daemon in another process, then checkpoint and resume, of one guest's contents.
/// </summary>
internal static class BenchMigrateCommand
{
    public static Command Create()
    {
        var memory = CommonOptions.Memory();
        memory.DefaultValueFactory = _ => 1UL << 30;
        var load = new Option<string?>("--load")
        {
            Description = "put this file into guest RAM at OFFSET from its start (FILE@0x1000000, the default offset, as QEMU's -device loader addr); without it memory is all zero",
        };
        var runs = new Option<int>("--runs") { Description = "measured runs (the median is reported; one unmeasured warm-up run comes first)", DefaultValueFactory = _ => 3 };
        runs.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 100)
            {
                r.AddError("--runs: give 1..100");
            }
        });
        var downtime = new Option<TimeSpan>("--downtime")
        {
            Description = "downtime target of the pre-copy policy (QEMU's downtime-limit)",
            DefaultValueFactory = _ => TimeSpan.FromMilliseconds(20),
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!Duration.TryParse(text, out var value) || value <= TimeSpan.Zero)
                {
                    result.AddError($"--downtime: '{text}' is not a positive duration (examples: 20ms, 1s)");
                }

                return value;
            },
        };
        var dir = new Option<DirectoryInfo?>("--dir") { Description = "where the daemon's socket and the checkpoint files go (default: the temp directory)" };
        var json = new Option<bool>("--json") { Description = "print the medians and every run as one JSON object" };
        var command = new Command("migrate", "Migrate an idle guest holding a file's contents (or nothing) to a host daemon in another process over loopback, then checkpoint and resume it; print total time, downtime and GB/s")
        {
            memory, load, runs, downtime, dir, json,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(memory), parse.GetValue(load), parse.GetValue(runs), parse.GetValue(downtime), parse.GetValue(dir), parse.GetValue(json), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ulong memorySize, string? load, int runs, TimeSpan downtime, DirectoryInfo? directory, bool json, CancellationToken cancellationToken)
    {
        try
        {
            var image = load is null ? null : GuestMemoryImage.Parse(load, memorySize);
            var work = directory?.FullName ?? Path.GetTempPath();
            Directory.CreateDirectory(work);
            var result = await MigrationBenchmark.RunAsync(memorySize, image, runs, downtime, work, line => Console.Error.WriteLine($"migration: {line}"), cancellationToken).ConfigureAwait(false);
            Console.Out.Write(json ? result.ToJson() + Environment.NewLine : result.ToText());
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or IOException or CheckpointException or MigrationException or InvalidOperationException or UnauthorizedAccessException or TimeoutException or PlatformNotSupportedException)
        {
            Console.Error.WriteLine($"migration: bench migrate: {e.Message}");
            return 1;
        }
    }
}
