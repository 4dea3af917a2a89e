using System.Net.Sockets;
using Migration.Core.Machines;
using Migration.Core.Transfer;
using Migration.Machine.Tests.Transfer;
using Xunit.Abstractions;

namespace Migration.Machine.Tests.Continuity;

/// <summary>A migration that fails after the connections were frozen puts them back on the source and lifts the lock.</summary>
[Collection(ContinuityCollection.Name)]
public sealed class RepairRollbackTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_destination_that_fails_after_re_creating_the_connections_leaves_them_working_on_the_source()
    {
        using var kv = await RepairKv.StartAsync(output, 16UL << 20);
        if (kv is null)
        {
            return;
        }

        Assert.Equal("+OK\r\n", await kv.AskAsync("SET before rollback\r\n", 5));

        // The destination re-creates every connection (in repair mode, as a real one does), then fails before Commit.
        var build = kv.Hosts.Build(kv.Console.Stream);
        var e = await Assert.ThrowsAsync<MigrationException>(() => LiveMigration.RunAsync(kv.Vm, build: state =>
        {
            var machine = build(state);
            machine.Dispose();
            throw new InvalidOperationException("destination gave up after restoring the sockets");
        }));

        output.WriteLine(e.Message);
        Assert.Equal(MigrationOutcome.RolledBack, e.Outcome);
        Assert.DoesNotContain("could not be kept", e.Message, StringComparison.Ordinal);
        await AssertRunningAndUnlockedAsync(kv);

        // Same connection, same server: the guest still answers on it, and still accepts new clients on its port.
        Assert.Equal("$8\r\nrollback\r\n", await kv.AskAsync("GET before\r\n", 14));
        using var second = new TcpClient();
        await second.ConnectAsync(kv.Endpoint);
        Assert.Equal("+PONG\r\n", await kv.AskAsync("PING\r\n", 7, second));
    }

    [Fact]
    public async Task A_destination_that_dies_after_re_creating_the_connections_leaves_them_working_on_the_source()
    {
        using var kv = await RepairKv.StartAsync(output, 16UL << 20);
        if (kv is null)
        {
            return;
        }

        Assert.Equal("+OK\r\n", await kv.AskAsync("SET before death\r\n", 5));

        // As a killed process: its repair-mode sockets close without a word, and its end of the link is reset, no message sent.
        await using var link = await Loopback.ConnectAsync();
        var build = kv.Hosts.Build(kv.Console.Stream);
        var destination = MigrationDestination.ReceiveAsync(link.Destination, state =>
        {
            build(state).Dispose();
            link.DestinationClient.Client.LingerState = new LingerOption(true, 0);
            link.DestinationClient.Client.Close();
            throw new IOException("killed");
        }, TransferSetup.Start, TransferSetup.Destination());
        var e = await Assert.ThrowsAsync<MigrationException>(() => MigrationSource.MigrateAsync(kv.Vm, link.Source, [], TransferSetup.Source()).WaitAsync(TimeSpan.FromMinutes(1)));
        await destination.ContinueWith(_ => { }, TaskScheduler.Default);

        output.WriteLine(e.Message);
        Assert.Equal(MigrationOutcome.RolledBack, e.Outcome);
        await AssertRunningAndUnlockedAsync(kv);
        Assert.Equal("$5\r\ndeath\r\n", await kv.AskAsync("GET before\r\n", 11));
    }

    private static async Task AssertRunningAndUnlockedAsync(RepairKv kv)
    {
        // Resume returns before the vCPU thread has left its parking place.
        await TransferSetup.WaitUntilAsync(() => kv.Vm.State == MachineRunState.Running, "the source's vCPU runs again", seconds: 10);
        Assert.DoesNotContain(kv.Lock.Locked(), locked => locked.Equals(kv.Endpoint));
    }
}
