using Migration.Core.Checkpoints;
using Migration.Core.Machines;
using Migration.Core.State;
using Migration.Core.Transfer;
using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Transfer;

/// <summary>A destination never starts a guest it was not committed: it discards the machine it built.</summary>
public sealed class DestinationDiscardTests
{
    [Fact]
    public async Task Without_a_commit_the_destination_times_out_and_discards_the_machine()
    {
        await using var link = await Loopback.ConnectAsync();
        RiscVMachine? built = null;
        var build = TransferSetup.Build();
        var destination = MigrationDestination.ReceiveAsync(
            link.Destination,
            state => built = (RiscVMachine)build(state),
            _ => Assert.Fail("a guest was started without a commit"),
            new MigrationReceiveOptions { Secret = TransferSetup.Secret, HandoverTimeout = TimeSpan.FromMilliseconds(300) });

        await SendWholeStreamAsync(link);
        var ready = await ReadUntilReadyAsync(link);
        var e = await Assert.ThrowsAsync<MigrationException>(() => destination.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.True(ready);
        Assert.Equal("hand-over failed: the source did not commit within 0.3 s; the VM was discarded here and continues on the source", e.Message);
        Assert.Equal(MachineExitKind.Terminated, (await built!.Completion.WaitAsync(TimeSpan.FromSeconds(5))).Kind);
    }

    [Fact]
    public async Task A_source_closing_before_the_commit_makes_the_destination_discard_the_machine()
    {
        await using var link = await Loopback.ConnectAsync();
        RiscVMachine? built = null;
        var build = TransferSetup.Build();
        var destination = MigrationDestination.ReceiveAsync(
            link.Destination, state => built = (RiscVMachine)build(state), _ => Assert.Fail("a guest was started without a commit"), TransferSetup.Destination());

        await SendWholeStreamAsync(link);
        await ReadUntilReadyAsync(link);
        link.SourceClient.Client.Close();
        var e = await Assert.ThrowsAsync<MigrationException>(() => destination.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal("hand-over failed: the source closed the connection before committing; the VM was discarded here and continues on the source", e.Message);
        Assert.Equal(MachineExitKind.Terminated, (await built!.Completion.WaitAsync(TimeSpan.FromSeconds(5))).Kind);
    }

    [Fact]
    public async Task A_checkpoint_stream_is_a_valid_single_round_migration()
    {
        await using var link = await Loopback.ConnectAsync();
        var destination = MigrationDestination.ReceiveAsync(link.Destination, TransferSetup.Build(), TransferSetup.Start, TransferSetup.Destination());

        await SendWholeStreamAsync(link);
        await ReadUntilReadyAsync(link);
        await ControlChannel.WriteAsync(link.Source, ControlMessage.Commit(startVcpu: true));
        var resumed = await ControlChannel.ReadAsync(link.Source);
        using var machine = (RiscVMachine)await destination.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ControlMessage.Resumed, resumed);
        Assert.NotEqual(MachineRunState.Created, machine.State);
    }

    /// <summary>A source that authenticates and writes a paused idle machine as one stream, checkpoint-style.</summary>
    private static async Task SendWholeStreamAsync(Loopback link)
    {
        await ChannelAuthenticator.AuthenticateClientAsync(link.Source, TransferSetup.Secret, TimeSpan.FromSeconds(10));
        using var machine = TransferSetup.Load("idle", 4UL << 20);
        var log = machine.Memory.DirtyLog;
        log.CollectAndClear();
        await MachineStateWriter.WriteAsync(machine, link.Source, log.WrittenPages(), [new CheckpointInfo().ToSection()]);
    }

    private static async Task<bool> ReadUntilReadyAsync(Loopback link)
    {
        while (await ControlChannel.ReadAsync(link.Source) is { } message)
        {
            if (message.Type == ControlMessageType.Ready)
            {
                return true;
            }

            Assert.Equal(ControlMessageType.RoundDone, message.Type);
        }

        return false;
    }
}
