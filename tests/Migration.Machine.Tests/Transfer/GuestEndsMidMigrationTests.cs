using Migration.Core.Machines;
using Migration.Core.Transfer;

namespace Migration.Machine.Tests.Transfer;

/// <summary>A guest that ends by itself while it is being migrated: there is nothing left to move, and the report says what happened to it.</summary>
public sealed class GuestEndsMidMigrationTests
{
    [Fact]
    public async Task A_guest_that_exits_during_pre_copy_fails_the_migration_with_a_report_that_says_it_ended()
    {
        using var console = new ConsoleCapture();
        // 4,096 pages rewritten at 4,096 pages/s for 3 s, then exit 0; round 0 moves those 16 MiB at 4 MiB/s, about 4 s,
        // so the guest ends while it is still being copied.
        using var source = TransferSetup.Load("dirty", 64UL << 20, console.Stream, "4096", "4096", "3");
        source.Start();
        await TransferSetup.WaitUntilAsync(() => console.Text.Contains(" pages written", StringComparison.Ordinal), "the guest wrote its working set once");
        await using var link = await Loopback.ConnectAsync();
        var destination = MigrationDestination.ReceiveAsync(link.Destination, TransferSetup.Build(), TransferSetup.Start, TransferSetup.Destination());

        var e = await Assert.ThrowsAsync<MigrationException>(() => MigrationSource.MigrateAsync(
            source, link.Source, [], new MigrationOptions { Secret = TransferSetup.Secret, MaxBandwidth = 4L << 20 }).WaitAsync(TimeSpan.FromSeconds(60)));
        await Assert.ThrowsAnyAsync<MigrationException>(() => destination.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(MigrationOutcome.RolledBack, e.Outcome);
        Assert.Contains("the VM ended here during the migration (exited)", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("keeps running", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(MachineRunState.Exited, source.State);
        Assert.Contains("dirty: done,", console.Text, StringComparison.Ordinal);
    }
}
