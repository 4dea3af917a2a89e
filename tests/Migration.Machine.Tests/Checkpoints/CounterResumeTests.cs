using Migration.Core.Checkpoints;
using Migration.Core.Machines;
using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Checkpoints;

public sealed class CounterResumeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("migration-ckpt-").FullName;

    [Fact]
    public async Task A_full_checkpoint_taken_mid_run_resumes_to_the_uninterrupted_output()
    {
        var expected = CounterMachine.Uninterrupted();
        var path = Path.Combine(_directory, "full.mck");
        using var counter = new CounterMachine();
        counter.Machine.Start();
        counter.RunUntilRound(3);

        var result = await ResumedRun.CaptureAsync(counter.Machine, path);
        var original = await counter.Machine.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        var (before, after, exit) = await ResumedRun.FromFileAsync(path);

        Assert.False(result.IsIncremental);
        Assert.Equal(MachineExitKind.Exited, exit.Kind);
        Assert.Equal(original.ProcessExitCode, exit.ProcessExitCode);
        Assert.Equal(expected, counter.Output);
        Assert.InRange(before, 1, expected.Length - 1);
        Assert.Equal(expected, counter.Output[..(int)before] + after);
        Assert.Contains("checksum", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_last_of_a_chain_of_five_incrementals_resumes_exactly_like_a_full_checkpoint_of_the_same_moment()
    {
        var expected = CounterMachine.Uninterrupted();
        var directory = new CheckpointDirectory(_directory);
        var series = new CheckpointSeries();
        using var counter = new CounterMachine();
        counter.Machine.Start();
        var results = new List<CheckpointResult>();
        for (var i = 0; i < 5; i++)
        {
            counter.RunUntilRound(i + 1);
            results.Add(await directory.WriteAsync(counter.Machine, series));
        }

        // The sixth capture twice at one instant: incremental (fifth in the chain) and full.
        counter.RunUntilRound(6);
        await counter.Machine.PauseAsync();
        var last = await directory.WriteAsync(counter.Machine, series);
        var fullPath = Path.Combine(_directory, "same-moment-full.mck.full");
        await ResumedRun.CaptureAsync(counter.Machine, fullPath);
        counter.Machine.Resume();
        await counter.Machine.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.False(results[0].IsIncremental);
        Assert.All(results.Skip(1).Append(last), r => Assert.True(r.IsIncremental));
        Assert.Equal(5, last.Sequence);
        Assert.Equal(results[^1].Digest, last.ParentDigest);
        Assert.Equal(6, (await CheckpointFile.ResolveChainAsync(last.Path!)).Count);

        var fromChain = await RiscVCheckpoint.ResumeFileAsync(last.Path!, new MachineOptions());
        using (fromChain.Machine)
        {
            await using var fullStream = File.OpenRead(fullPath);
            var fromFull = await RiscVCheckpoint.RestoreAsync(fullStream, new MachineOptions());
            using (fromFull.Machine)
            {
                AssertSameState(fromFull.Machine, fromChain.Machine);
            }
        }

        var (before, after, _) = await ResumedRun.FromFileAsync(last.Path!);
        Assert.Equal(expected, counter.Output[..(int)before] + after);
    }

    [Fact]
    public async Task Resuming_twice_from_one_file_gives_the_same_run()
    {
        var path = Path.Combine(_directory, "twice.mck");
        using var counter = new CounterMachine();
        counter.Machine.Start();
        counter.RunUntilRound(2);
        await ResumedRun.CaptureAsync(counter.Machine, path);
        counter.Machine.Terminate();

        var first = await ResumedRun.FromFileAsync(path);
        var second = await ResumedRun.FromFileAsync(path);

        Assert.Equal(first.After, second.After);
        Assert.Equal(first.Exit.InstructionsRetired, second.Exit.InstructionsRetired);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task A_series_broken_by_another_collector_starts_again_with_a_full_checkpoint()
    {
        var directory = new CheckpointDirectory(_directory);
        var series = new CheckpointSeries();
        using var counter = new CounterMachine();
        counter.Machine.Start();
        counter.RunUntilRound(1);
        await directory.WriteAsync(counter.Machine, series);
        counter.Machine.Memory.DirtyLog.CollectAndClear();
        counter.RunUntilRound(2);

        var next = await directory.WriteAsync(counter.Machine, series);

        Assert.False(next.IsIncremental);
        Assert.Equal(0, next.Sequence);
        counter.Machine.Terminate();
    }

    private static void AssertSameState(RiscVMachine expected, RiscVMachine actual)
    {
        Assert.Equal(expected.Pc, actual.Pc);
        Assert.Equal(expected.InstructionsRetired, actual.InstructionsRetired);
        Assert.Equal(expected.ConsoleBytesWritten, actual.ConsoleBytesWritten);
        for (var r = 0; r < 32; r++)
        {
            Assert.Equal(expected.GetRegister(r), actual.GetRegister(r));
        }

        Assert.Equal(expected.Memory.Size, actual.Memory.Size);
        for (var page = 0; page < expected.Memory.PageCount; page++)
        {
            Assert.True(expected.Memory.GetPage(page).SequenceEqual(actual.Memory.GetPage(page)), $"page {page} differs");
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
