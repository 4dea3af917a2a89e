using System.Diagnostics;
using System.Globalization;
using System.Text;
using Migration.Core.Checkpoints;
using Migration.Core.Pages;
using Migration.Machine.RiscV;

namespace Migration.Cli.Bench;

/// <summary>
/// Whole checkpoints of a running guest, timed the way a user meets them: checkpoint = pause, capture, write, fsync,
/// rename, resume; resume = open the file to the guest running again. The `idle` guest runs so that the only thing
/// changing memory is the benchmark, which fills it from the host before each run.
/// </summary>
internal static class CheckpointBenchmark
{
    /// <summary>Left unfilled at the bottom (the guest's image and heap) and top (its arguments) of RAM.</summary>
    public const ulong Reserved = 16UL << 20;

    public static CheckpointMeasurement Measure(CheckpointScenario scenario, ulong memorySize, int runs, string workDirectory, Action<string> progress)
    {
        var checkpoint = new List<double>();
        var paused = new List<double>();
        var resume = new List<double>();
        long fileBytes = 0;
        long pages = 0;

        // One unmeasured run first: the first use of every code path pays for JIT compilation.
        for (var run = -1; run < runs; run++)
        {
            var directory = new CheckpointDirectory(Path.Combine(workDirectory, $"run-{Guid.NewGuid():N}"));
            try
            {
                using (var machine = StartIdleGuest(memorySize))
                {
                    MemoryContents.Fill(machine.Memory, machine.Memory.Base + (Reserved / 2), scenario.FilledBytes(memorySize), scenario.Pattern, seed: run + 2);
                    var started = Stopwatch.GetTimestamp();
                    var result = directory.WriteAsync(machine, codec: new PageCodecOptions { Compress = scenario.Compress }).GetAwaiter().GetResult();
                    var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
                    machine.Terminate();
                    if (run >= 0)
                    {
                        checkpoint.Add(elapsed);
                        paused.Add(result.Paused.TotalSeconds);
                        fileBytes = new FileInfo(result.Path!).Length;
                        pages = result.Pages.Pages;
                    }

                    var resumeStarted = Stopwatch.GetTimestamp();
                    var resumed = RiscVCheckpoint.ResumeFileAsync(result.Path!, new MachineOptions()).GetAwaiter().GetResult();
                    resumed.Machine.Start();
                    var resumeElapsed = Stopwatch.GetElapsedTime(resumeStarted).TotalSeconds;
                    resumed.Machine.Dispose();
                    if (run >= 0)
                    {
                        resume.Add(resumeElapsed);
                        progress($"{scenario.Name}: run {run + 1}/{runs}: checkpoint {elapsed * 1e3:F0} ms, resume {resumeElapsed * 1e3:F0} ms, {fileBytes:N0} bytes");
                    }
                }
            }
            finally
            {
                Directory.Delete(directory.Path, recursive: true);
            }
        }

        var limits = PhysicalLimits.Measure(Math.Max(fileBytes, 4096), workDirectory, runs);
        return new CheckpointMeasurement(scenario, fileBytes, pages, Median(checkpoint), Median(paused), Median(resume), limits);
    }

    public static string Table(IReadOnlyList<CheckpointMeasurement> rows, ulong memorySize, int runs)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Checkpoint and resume of a {memorySize >> 20} MiB guest, median of {runs} runs (file written with fsync; resume from the page cache, until the guest runs again).");
        text.AppendLine();
        text.AppendLine("| contents | file | pages | checkpoint | guest paused | resume | checkpoint GB/s | resume GB/s | dd+fsync same size | cp+fsync | read cached | memcpy |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            var l = r.Limits;
            text.AppendLine(c,
                $"| {r.Scenario.Name} | {Mib(r.FileBytes)} | {r.Pages:N0} | {Ms(r.CheckpointSeconds)} | {Ms(r.PausedSeconds)} | {Ms(r.ResumeSeconds)} | {Rate(memorySize, r.CheckpointSeconds)} | {Rate(memorySize, r.ResumeSeconds)} | {Ms(l.WriteFsync.Seconds)} | {Ms(l.CopyFsync.Seconds)} | {Ms(l.ReadCached.Seconds)} | {Ms(l.Memcpy.Seconds)} |");
        }

        text.AppendLine();
        text.AppendLine("GB/s is guest memory (10^9 bytes) per second of checkpoint or resume. The last four columns are this host's own tools on a file (or buffer) of the checkpoint's size, in the same run.");
        return text.ToString();
    }

    internal static RiscVMachine StartIdleGuest(ulong memorySize)
    {
        var ready = new ReadySignal("idle: ready");
        var machine = RiscVMachine.Load(GuestImages.Find("idle"), new MachineOptions
        {
            MemorySize = memorySize,
            Console = ready,
        });
        machine.Start();
        if (!ready.Wait(TimeSpan.FromSeconds(30)))
        {
            machine.Dispose();
            throw new InvalidOperationException("the idle guest did not report ready within 30 s");
        }

        return machine;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count == 0 ? double.NaN : values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
    }

    private static string Ms(double seconds) => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1e3:F1} ms");

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MiB");

    private static string Rate(ulong bytes, double seconds) => string.Create(CultureInfo.InvariantCulture, $"{bytes / seconds / 1e9:F1}");
}
