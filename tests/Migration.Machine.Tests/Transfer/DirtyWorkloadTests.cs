using System.Text.RegularExpressions;
using Migration.Core.Machines;
using Migration.Core.Transfer;

namespace Migration.Machine.Tests.Transfer;

/// <summary>The standard migration workload, <c>dirty</c> with a 64 MiB working set (16,384 pages) in a 1 GiB VM.</summary>
[Trait("Category", "EndToEnd")]
[Collection(TimingCollection.Name)]
public sealed partial class DirtyWorkloadTests
{
    private const ulong Gigabyte = 1UL << 30;

    [Fact]
    public async Task A_moderate_dirty_rate_converges_without_throttling_and_the_guest_carries_on()
    {
        using var sourceConsole = new ConsoleCapture();
        using var source = TransferSetup.Load("dirty", Gigabyte, sourceConsole.Stream, "16384", "5000");
        source.Start();
        await TransferSetup.WaitUntilAsync(() => Lines(sourceConsole).Count >= 1, "the guest printed its first line");
        using var console = new ConsoleCapture();

        var (report, destination) = await LiveMigration.RunAsync(source, build: TransferSetup.Build(console.Stream));
        using (destination)
        {
            // Converged: the policy found the rest would fit the downtime target at the measured bandwidth. Whether the
            // pause then met it is timing on a shared machine, which the downtime benchmark measures and no test asserts.
            Assert.Equal(SwitchoverReason.Converged, report.Switchover);
            Assert.False(report.AutoConverged);
            // Round 0 carries what the guest has written so far: at 5,000 pages/s, up to a second's worth of the working
            // set by its first progress line (less when a loaded host starved it: the guest drops a backlog).
            Assert.InRange(report.Rounds[0].Pages, 1_000, 16_384 + 1024);

            // It keeps counting where it left off: the next progress line on the destination is above the source's last.
            var last = Written(Lines(sourceConsole).LastOrDefault());
            await TransferSetup.WaitUntilAsync(() => Lines(console).Any(l => Written(l) > last), "the destination printed progress", 10);
            Assert.Equal(MachineRunState.Running, destination.State);
        }
    }

    [Fact]
    public async Task A_dirty_rate_above_the_link_completes_through_auto_converge_and_the_report_says_so()
    {
        using var sourceConsole = new ConsoleCapture();
        using var source = TransferSetup.Load("dirty", Gigabyte, sourceConsole.Stream, "16384", "0");
        source.Start();
        // The whole working set written at least once: on a loaded host the guest may still be starting when the header prints,
        // and a migration then would find too little dirty to need auto-converge.
        await TransferSetup.WaitUntilAsync(() => Lines(sourceConsole).Any(l => Written(l) >= 16_384), "the guest rewrote its working set");
        var progress = new SyncProgress();

        var (report, destination) = await LiveMigration.RunAsync(
            source, new MigrationOptions { Secret = TransferSetup.Secret, MaxBandwidth = 256L << 20, MaxRounds = 5 }, progress: progress);
        using (destination)
        {
            Assert.True(report.AutoConverged, report.ToString());
            Assert.InRange(report.MaxThrottle, 0.2, 0.99);
            Assert.Equal(SwitchoverReason.RoundLimit, report.Switchover);
            Assert.Equal(6, report.Rounds.Count);
            Assert.Contains(progress.Reports, p => p.Throttle > 0);
            Assert.Contains("auto-converge throttled the vCPU", report.ToString(), StringComparison.Ordinal);
            Assert.Equal(0, source.Throttle);
            Assert.Equal(0, destination.Throttle);
            Assert.Equal(MachineRunState.Running, destination.State);
        }
    }

    private static List<string> Lines(ConsoleCapture console) =>
        [.. console.Text.Split('\n').Where(l => l.EndsWith(" pages written", StringComparison.Ordinal))];

    private static long Written(string? line) =>
        line is not null && WrittenPattern().Match(line) is { Success: true } m ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;

    [GeneratedRegex(@"^dirty: (\d+) pages written$")]
    private static partial Regex WrittenPattern();
}
