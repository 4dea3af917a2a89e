using System.CommandLine;
using Migration.Cli.Bench;
using Migration.Core.Checkpoints;

namespace Migration.Cli.Commands;

/// <summary><c>migration bench checkpoint [--memory SIZE] [--runs N] [--dir DIR]</c>: whole-checkpoint figures beside the host's limits; <c>bench downtime</c>: see <see cref="BenchDowntimeCommand"/>.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var memory = CommonOptions.Memory();
        memory.DefaultValueFactory = _ => 1UL << 30;
        var runs = new Option<int>("--runs") { Description = "measured runs per case (the median is reported)", DefaultValueFactory = _ => 3 };
        runs.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 100)
            {
                r.AddError("--runs: give 1..100");
            }
        });
        var dir = new Option<DirectoryInfo?>("--dir") { Description = "where to write the checkpoint files (default: the temp directory)" };
        var checkpoint = new Command("checkpoint", "Checkpoint and resume a guest holding (a) half random, half zero, (b) all zero, (c) text-like memory (with and without compression); print a Markdown table")
        {
            memory, runs, dir,
        };
        checkpoint.SetAction(parse => RunCheckpoint(parse.GetValue(memory), parse.GetValue(runs), parse.GetValue(dir)));
        return new Command("bench", "Benchmarks") { checkpoint, BenchMigrateCommand.Create(), BenchDowntimeCommand.Create() };
    }

    private static int RunCheckpoint(ulong memorySize, int runs, DirectoryInfo? directory)
    {
        var work = directory?.FullName ?? Path.GetTempPath();
        Directory.CreateDirectory(work);
        var rows = new List<CheckpointMeasurement>();
        try
        {
            foreach (var scenario in CheckpointScenario.Standard)
            {
                rows.Add(CheckpointBenchmark.Measure(scenario, memorySize, runs, work, line => Console.Error.WriteLine($"migration: {line}")));
            }
        }
        catch (Exception e) when (e is IOException or CheckpointException or InvalidOperationException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"migration: bench checkpoint: {e.Message}");
            return 1;
        }

        Console.Out.Write(CheckpointBenchmark.Table(rows, memorySize, runs));
        return 0;
    }
}
