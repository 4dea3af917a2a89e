using System.Text;
using Migration.Core.Machines;
using Migration.Core.Transfer;
using Migration.Machine.RiscV;
using Migration.Machine.Tests.Checkpoints;
using Migration.Machine.Tests.State;

namespace Migration.Machine.Tests.Transfer;

public sealed class MigrationTests
{
    [Fact]
    public async Task Counter_migrated_mid_run_finishes_on_the_destination_with_the_uninterrupted_output()
    {
        var expected = CounterMachine.Uninterrupted();

        // The guest is held inside the write of its third line until stop-and-copy begins, so however slow this host
        // is, the migration lands mid-run.
        using var gate = new GatedConsole(holdAfterLines: 3);
        using var source = TransferSetup.Load("counter", 1UL << 20, gate, CounterMachine.Rounds, CounterMachine.Steps);
        source.Start();
        Assert.True(gate.WaitUntilHeld(TimeSpan.FromSeconds(30)), "the guest did not print its third line");
        var progress = new SyncProgress(p =>
        {
            if (p.Phase == MigrationPhase.StopAndCopy)
            {
                gate.Release();
            }
        });
        using var console = new ConsoleCapture();
        long before = -1;
        var build = TransferSetup.Build(console.Stream);

        var (report, destination) = await LiveMigration.RunAsync(source, progress: progress, build: state =>
        {
            var machine = (RiscVMachine)build(state);
            before = machine.ConsoleBytesWritten;
            return machine;
        });
        using (destination)
        {
            var exit = await destination.Completion.WaitAsync(TimeSpan.FromSeconds(60));
            var printedHere = Encoding.UTF8.GetString(gate.ToArray());

            Assert.Equal(MachineExitKind.Exited, exit.Kind);
            Assert.Equal(MachineRunState.Paused, source.State);
            Assert.Equal(printedHere.Length, before);
            Assert.InRange(before, 1, expected.Length - 1);
            Assert.Equal(expected, printedHere + console.Text);
            Assert.True(report.Rounds[^1].StopAndCopy);
            Assert.True(report.GuestDowntime > TimeSpan.Zero && report.GuestDowntime < report.TotalTime);
        }
    }

    [Fact]
    public async Task The_destination_resumes_with_memory_identical_to_the_paused_source()
    {
        using var source = TransferSetup.Load("idle", 64UL << 20);
        TransferSetup.FillRandom(source, 1UL << 20, 32UL << 20);
        source.Start();
        var progress = new SyncProgress();

        var (report, destination) = await LiveMigration.RunAsync(source, progress: progress);
        using (destination)
        {
            Assert.Equal(MachineRunState.Paused, source.State);
            Assert.Equal(MachineRunState.Running, destination.State);
            Assert.Equal(TransferSetup.Hash(source), TransferSetup.Hash(destination));
            Assert.InRange(report.PagesSent, 8192, 8192 + 512);
            Assert.InRange(report.BytesSent, 32L << 20, 34L << 20);
            Assert.InRange(report.CompressionRatio, 0.99, 1.1);
            Assert.Equal(SwitchoverReason.Converged, report.Switchover);
            Assert.False(report.AutoConverged);
            Assert.Equal(report.Rounds.Count, report.Rounds.Select(r => r.Number).Distinct().Count());
            Assert.True(report.Rounds[^1].StopAndCopy);
            Assert.True(report.GuestDowntime < TimeSpan.FromSeconds(1), report.ToString());

            var phases = progress.Reports.Select(p => p.Phase).Distinct().ToList();
            Assert.Equal([MigrationPhase.Setup, MigrationPhase.Precopy, MigrationPhase.StopAndCopy, MigrationPhase.Handover, MigrationPhase.Completed], phases);
            Assert.Equal(report.BytesSent, progress.Reports[^1].BytesSent);
        }
    }

    [Fact]
    public async Task A_paused_vm_arrives_paused()
    {
        using var source = TransferSetup.Load("idle", 4UL << 20);
        source.Start();
        await source.PauseAsync();
        var started = false;

        var (_, destination) = await LiveMigration.RunAsync(source, start: _ => started = true);
        using (destination)
        {
            Assert.False(started);
            Assert.Equal(MachineRunState.Created, destination.State);
            Assert.Equal(TransferSetup.Hash(source), TransferSetup.Hash(destination));
        }
    }

    [Fact]
    public async Task Pages_rewritten_over_many_rounds_arrive_as_they_were_at_the_pause()
    {
        // dirty flat out over 4,096 pages, on a link slow enough that every round finds them all dirty again.
        using var console = new ConsoleCapture();
        using var source = TransferSetup.Load("dirty", 64UL << 20, console.Stream, "4096", "0");
        source.Start();
        await TransferSetup.WaitUntilAsync(() => console.Text.Contains(" pages/s", StringComparison.Ordinal), "the guest started writing");
        ulong atResume = 0;

        var (report, destination) = await LiveMigration.RunAsync(
            source,
            new MigrationOptions { Secret = TransferSetup.Secret, MaxBandwidth = 64L << 20, MaxRounds = 4 },
            start: machine =>
            {
                atResume = TransferSetup.Hash((RiscVMachine)machine);
                TransferSetup.Start(machine);
            });
        using (destination)
        {
            Assert.Equal(TransferSetup.Hash(source), atResume);
            Assert.Equal(4 + 1, report.Rounds.Count);

            // Pre-copy rounds keep to the cap (64 MiB/s), give or take the bucket's 50 ms burst; stop-and-copy is not capped.
            Assert.All(report.Rounds.SkipLast(1), r => Assert.True(
                r.Bytes <= 1.1 * (64 << 20) * (r.Duration.TotalSeconds + 0.05), $"round {r.Number}: {r.Bytes} bytes in {r.Duration}"));
            // The guest rewrites its 4,096 pages many times a round when it has a core; on a loaded machine it may be
            // descheduled for part of the short first round (seen: 3,072 after 0.1 s), so each round must find a large
            // share re-dirtied and never more than the working set plus the stack.
            Assert.All(report.Rounds.SkipLast(1), r => Assert.InRange(r.DirtyPagesAtEnd, 1024, 5000));
            Assert.Contains(report.Rounds.SkipLast(1), r => r.DirtyPagesAtEnd >= 4000);
            Assert.Equal(SwitchoverReason.RoundLimit, report.Switchover);
            Assert.True(report.AutoConverged);
            Assert.Equal(0, source.Throttle);
            await Task.Delay(50);
            Assert.Equal(MachineRunState.Running, destination.State);
        }
    }
}
