using System.Net;
using System.Net.Sockets;
using System.Text;
using Migration.Core.Machines;
using Migration.Core.Transfer;
using Migration.Machine.RiscV;
using Migration.Machine.Tests.Transfer;
using Migration.Networking.Repair;
using Xunit.Abstractions;

namespace Migration.Machine.Tests.Continuity;

/// <summary>A migration that fails after the connections were frozen puts them back on the source and lifts the lock.</summary>
[Collection(ContinuityCollection.Name)]
public sealed class RepairRollbackTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_destination_that_fails_after_re_creating_the_connections_leaves_them_working_on_the_source()
    {
        if (RepairSupport.Probe() is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return;
        }

        using var networkLock = NetworkLock.Open();
        var hosts = new RepairHosts(networkLock, 6379);
        using var console = new ConsoleCapture();
        using var vm = RiscVMachine.Load(RepositoryPaths.Guest("kv"), hosts.Options(16UL << 20, console.Stream));
        var endpoint = await RepairHosts.StartAsync(vm);
        using var client = new TcpClient();
        await client.ConnectAsync(endpoint);
        var stream = client.GetStream();
        Assert.Equal("+OK\r\n", await RoundTripAsync(stream, "SET before rollback\r\n", 5));

        // The destination re-creates every connection (in repair mode, as a real one does), then fails before Commit.
        var build = hosts.Build(console.Stream);
        var e = await Assert.ThrowsAsync<MigrationException>(() => LiveMigration.RunAsync(vm, build: state =>
        {
            var machine = build(state);
            machine.Dispose();
            throw new InvalidOperationException("destination gave up after restoring the sockets");
        }));

        output.WriteLine(e.Message);
        Assert.Equal(MigrationOutcome.RolledBack, e.Outcome);
        Assert.DoesNotContain("could not be kept", e.Message, StringComparison.Ordinal);
        // Resume returns before the vCPU thread has left its parking place.
        await TransferSetup.WaitUntilAsync(() => vm.State == MachineRunState.Running, "the source's vCPU runs again", seconds: 10);
        Assert.DoesNotContain(networkLock.Locked(), locked => locked.Equals(endpoint));

        // Same connection, same server: the guest still answers on it, and still accepts new clients on its port.
        Assert.Equal("$8\r\nrollback\r\n", await RoundTripAsync(stream, "GET before\r\n", 14));
        using var second = new TcpClient();
        await second.ConnectAsync(endpoint);
        Assert.Equal("+PONG\r\n", await RoundTripAsync(second.GetStream(), "PING\r\n", 7));
    }

    [Fact]
    public async Task A_destination_that_dies_after_re_creating_the_connections_leaves_them_working_on_the_source()
    {
        if (RepairSupport.Probe() is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return;
        }

        using var networkLock = NetworkLock.Open();
        var hosts = new RepairHosts(networkLock, 6379);
        using var console = new ConsoleCapture();
        using var vm = RiscVMachine.Load(RepositoryPaths.Guest("kv"), hosts.Options(16UL << 20, console.Stream));
        var endpoint = await RepairHosts.StartAsync(vm);
        using var client = new TcpClient();
        await client.ConnectAsync(endpoint);
        Assert.Equal("+OK\r\n", await RoundTripAsync(client.GetStream(), "SET before death\r\n", 5));

        // As a killed process: its repair-mode sockets close without a word, and its end of the link is reset, no message sent.
        await using var link = await Loopback.ConnectAsync();
        var build = hosts.Build(console.Stream);
        var destination = MigrationDestination.ReceiveAsync(link.Destination, state =>
        {
            build(state).Dispose();
            link.DestinationClient.Client.LingerState = new LingerOption(true, 0);
            link.DestinationClient.Client.Close();
            throw new IOException("killed");
        }, TransferSetup.Start, TransferSetup.Destination());
        var e = await Assert.ThrowsAsync<MigrationException>(() => MigrationSource.MigrateAsync(vm, link.Source, [], TransferSetup.Source()).WaitAsync(TimeSpan.FromMinutes(1)));
        await destination.ContinueWith(_ => { }, TaskScheduler.Default);

        output.WriteLine(e.Message);
        Assert.Equal(MigrationOutcome.RolledBack, e.Outcome);
        await TransferSetup.WaitUntilAsync(() => vm.State == MachineRunState.Running, "the source's vCPU runs again", seconds: 10);
        Assert.DoesNotContain(networkLock.Locked(), locked => locked.Equals(endpoint));
        Assert.Equal("$5\r\ndeath\r\n", await RoundTripAsync(client.GetStream(), "GET before\r\n", 11));
    }

    private static async Task<string> RoundTripAsync(NetworkStream stream, string request, int replyLength)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        var reply = new byte[replyLength];
        await stream.ReadExactlyAsync(reply, timeout.Token);
        return Encoding.ASCII.GetString(reply);
    }
}
