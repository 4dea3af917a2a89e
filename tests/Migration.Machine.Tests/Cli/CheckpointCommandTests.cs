using System.Diagnostics;
using Migration.Core.Checkpoints;

namespace Migration.Machine.Tests.Cli;

public sealed class CheckpointCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("migration-cli-ckpt-").FullName;

    [Fact]
    public void Run_writes_a_full_then_incremental_checkpoints_and_resume_prints_the_rest_of_the_uninterrupted_output()
    {
        var expected = Guests.CounterReference.Output(12, 1_500_000);
        var (code, stdout, stderr) = CliProcess.Run(
            "run", RepositoryPaths.Guest("counter"), "--memory", "4M", "--checkpoint-every", "40ms", "--checkpoint-dir", _directory, "--", "12", "1500000");
        Assert.True(code == 0, stderr);
        Assert.Equal(expected, stdout);
        var files = new CheckpointDirectory(_directory).List();
        Assert.True(files.Count >= 3, stderr);
        Assert.Contains(": full,", stderr, StringComparison.Ordinal);
        Assert.Contains(": incremental,", stderr, StringComparison.Ordinal);

        var last = files.Where(f => Path.GetFileName(f).StartsWith("00000", StringComparison.Ordinal)).ToList()[^2];
        var (resumeCode, resumed, resumeError) = CliProcess.Run("resume", last);

        Assert.Equal(0, resumeCode);
        Assert.NotEmpty(resumed);
        Assert.EndsWith(resumed, expected, StringComparison.Ordinal);
        Assert.Matches(@"^migration: resumed \d{6}-[0-9a-f]{16}\.mck \(sequence \d+, \d+ file\(s\) in the chain", resumeError);
    }

    [Fact]
    public void Inspect_verifies_and_lists_sections_pages_and_sockets()
    {
        CliProcess.Run("run", RepositoryPaths.Guest("counter"), "--memory", "4M", "--checkpoint-every", "30ms", "--checkpoint-dir", _directory, "--", "4", "4000000");
        var file = new CheckpointDirectory(_directory).List()[0];

        var (code, stdout, stderr) = CliProcess.Run("inspect", file);

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Matches(@"verified +digest [0-9a-f]{16}, \d+ frames, every checksum matches", stdout);
        Assert.Contains("riscv64im, 4 MiB at 0x80000000", stdout, StringComparison.Ordinal);
        Assert.Contains("sequence 0, full", stdout, StringComparison.Ordinal);
        foreach (var section in new[] { "machine", "checkpoint", "cpu", "devices", "sockets" })
        {
            Assert.Matches($@"(?m)^{section} +1 ", stdout);
        }

        Assert.Contains("sockets (0)", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_checkpoint_gives_one_line_and_exit_code_1_for_resume_and_inspect()
    {
        CliProcess.Run("run", RepositoryPaths.Guest("counter"), "--memory", "4M", "--checkpoint-every", "30ms", "--checkpoint-dir", _directory, "--", "3", "4000000");
        var file = new CheckpointDirectory(_directory).List()[0];
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(file, bytes);

        foreach (var command in new[] { "resume", "inspect" })
        {
            var (code, stdout, stderr) = CliProcess.Run(command, file);
            Assert.Equal(1, code);
            Assert.Equal("", stdout);
            Assert.Matches($@"^migration: {System.Text.RegularExpressions.Regex.Escape(file)}: .*mismatch.* \(at byte \d+\)\n$", stderr);
            Assert.Equal(bytes, File.ReadAllBytes(file));
        }
    }

    [Fact]
    public void Checkpoint_options_must_come_together()
    {
        var (code, _, stderr) = CliProcess.Run("run", RepositoryPaths.Guest("counter"), "--checkpoint-every", "1s");
        Assert.Equal(2, code);
        Assert.Equal("migration: --checkpoint-every needs --checkpoint-dir\n", stderr);

        (code, _, stderr) = CliProcess.Run("run", RepositoryPaths.Guest("counter"), "--checkpoint-every", "soon", "--checkpoint-dir", _directory);
        Assert.Equal(2, code);
        Assert.StartsWith("migration: --checkpoint-every: 'soon' is not a duration", stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// SIGKILL at random moments while a guest that rewrites 16 MiB is checkpointed every 10 ms: whatever carries a final
    /// name must be complete and verify; an interrupted write can only leave a temporary file.
    /// </summary>
    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task Killing_the_writer_never_leaves_a_torn_file_under_a_final_name()
    {
        var random = new Random(20261125);
        var finals = 0;
        var temporaries = 0;
        for (var run = 0; run < 6; run++)
        {
            var directory = Path.Combine(_directory, $"run{run}");
            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[]
            {
                RepositoryPaths.Cli, "run", RepositoryPaths.Guest("dirty"), "--memory", "64M",
                "--checkpoint-every", "10ms", "--checkpoint-dir", directory, "--", "4096", "0", "30",
            })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var firstCheckpoint = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var log = new System.Text.StringBuilder();
            var stderr = Task.Run(async () =>
            {
                while (await process.StandardError.ReadLineAsync() is { } line)
                {
                    log.AppendLine(line);
                    if (line.Contains(": full,", StringComparison.Ordinal))
                    {
                        firstCheckpoint.TrySetResult();
                    }
                }

                firstCheckpoint.TrySetException(new InvalidOperationException($"the run ended before its first checkpoint: {log}"));
            });
            var stdout = process.StandardOutput.ReadToEndAsync();

            // Start the clock at the first complete checkpoint, so a slow start on a loaded machine still leaves later writes to hit.
            await firstCheckpoint.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await Task.Delay(random.Next(0, 600));
            process.Kill();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await Task.WhenAll(stdout, stderr);

            if (!Directory.Exists(directory))
            {
                continue;
            }

            temporaries += Directory.GetFiles(directory, ".checkpoint-*.tmp").Length;
            foreach (var file in new CheckpointDirectory(directory).List())
            {
                var inspection = await CheckpointInspector.InspectAsync(file);
                Assert.Equal(CheckpointDirectory.FileName(inspection.Checkpoint.Sequence, inspection.Summary.Digest), Path.GetFileName(file));
                finals++;
            }
        }

        Assert.True(finals >= 6, $"only {finals} complete checkpoints in 6 runs");
        Console.WriteLine($"{finals} complete checkpoints verified, {temporaries} unfinished temporary files left by kills");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
