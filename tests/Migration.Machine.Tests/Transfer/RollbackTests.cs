using Migration.Core.Machines;
using Migration.Core.Transfer;
using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Transfer;

/// <summary>
/// Every failure before the commit leaves the source VM as it was: running, unthrottled, memory unchanged. The guest is
/// <c>idle</c> with host-written random contents, whose memory does not change while it runs, so a checksum taken
/// before the attempt must match one taken after.
/// </summary>
public sealed class RollbackTests : IDisposable
{
    private const ulong Memory = 64UL << 20;
    private const ulong Contents = 32UL << 20;

    private readonly ConsoleCapture _console = new();
    private readonly RiscVMachine _source;
    private readonly ulong _hash;

    public RollbackTests()
    {
        _source = TransferSetup.Load("idle", Memory, _console.Stream);
        TransferSetup.FillRandom(_source, 1UL << 20, Contents);
        _source.Start();
        _hash = TransferSetup.SettledHash(_source, _console);
    }

    // Round 0 takes about a second at this rate, so a failure lands in the middle of it.
    private static MigrationOptions Slow => new() { Secret = TransferSetup.Secret, MaxBandwidth = 32L << 20 };

    [Fact]
    public async Task Destination_closing_the_connection_mid_round_rolls_back()
    {
        await using var link = await Loopback.ConnectAsync();
        var destination = FakeDestination.CloseAfterAsync(link, 4L << 20);

        var e = await MigrateExpectingFailureAsync(link, Slow);
        await destination;

        Assert.StartsWith("destination closed the connection during round 0", e.Message, StringComparison.Ordinal);
        AssertRolledBack(e);
    }

    [Fact]
    public async Task Destination_closing_the_connection_while_the_vm_is_paused_rolls_back_and_resumes_it()
    {
        await using var link = await Loopback.ConnectAsync();
        var destination = FakeDestination.CloseAfterRoundAsync(link, 1);
        var progress = new SyncProgress();

        var e = await MigrateExpectingFailureAsync(link, TransferSetup.Source(), progress);
        await destination;

        Assert.Contains(progress.Reports, p => p.Phase == MigrationPhase.StopAndCopy);
        Assert.Equal(MigrationPhase.RolledBack, progress.Reports[^1].Phase);
        Assert.StartsWith("destination closed the connection during", e.Message, StringComparison.Ordinal);
        AssertRolledBack(e);
    }

    [Fact]
    public async Task Destination_answering_Error_rolls_back_with_its_reason()
    {
        await using var link = await Loopback.ConnectAsync();
        var destination = FakeDestination.RefuseAsync(link, "cannot allocate 64 GiB for the VM");

        var e = await MigrateExpectingFailureAsync(link, Slow);
        await link.Source.DisposeAsync();
        await destination.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("destination: cannot allocate 64 GiB for the VM; the migration was rolled back and the VM keeps running here", e.Message);
        AssertRolledBack(e);
    }

    [Theory]
    [InlineData(new byte[] { 5, 4, 0, 3, 0, 0, 0 }, "protocol violation: the destination sent RoundDone(3) during round 0")]
    [InlineData(new byte[] { 1, 0, 0 }, "protocol violation: the destination sent Ready during round 0")]
    [InlineData(new byte[] { 9, 0, 0 }, "corrupt control message from the destination during round 0: unknown control message type 0x09")]
    [InlineData(new byte[] { 4, 0xFF, 0xFF }, "corrupt control message from the destination during round 0: Error message length 65535 is outside 1..1024")]
    public async Task A_destination_breaking_the_control_protocol_rolls_back(byte[] message, string cause)
    {
        await using var link = await Loopback.ConnectAsync();
        var destination = FakeDestination.SendRawAsync(link, message);

        var e = await MigrateExpectingFailureAsync(link, Slow);
        await link.Source.DisposeAsync();
        await destination.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(e.Message.StartsWith(cause + ";", StringComparison.Ordinal), e.Message);
        AssertRolledBack(e);
    }

    [Fact]
    public async Task Destination_refusing_the_memory_size_rolls_back_with_its_message()
    {
        await using var link = await Loopback.ConnectAsync();
        var destination = MigrationDestination.ReceiveAsync(link.Destination, TransferSetup.Build(), TransferSetup.Start, TransferSetup.Destination(maxMemory: 32UL << 20));

        var e = await MigrateExpectingFailureAsync(link, TransferSetup.Source());
        await link.Source.DisposeAsync();
        var there = await Assert.ThrowsAsync<MigrationException>(() => destination.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.StartsWith("destination: cannot allocate 64 MiB for the VM: this destination takes at most 32 MiB", e.Message, StringComparison.Ordinal);
        Assert.Equal("incoming migration failed: cannot allocate 64 MiB for the VM: this destination takes at most 32 MiB; nothing was kept", there.Message);
        AssertRolledBack(e);
    }

    [Fact]
    public async Task Destination_failing_to_build_the_machine_rolls_back_the_paused_vm()
    {
        await using var link = await Loopback.ConnectAsync();
        var destination = MigrationDestination.ReceiveAsync(
            link.Destination, _ => throw new InsufficientMemoryException("cannot allocate 64 GiB for the VM"), TransferSetup.Start, TransferSetup.Destination());

        var e = await MigrateExpectingFailureAsync(link, TransferSetup.Source());
        await link.Source.DisposeAsync();
        await Assert.ThrowsAsync<MigrationException>(() => destination.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.StartsWith("destination: cannot allocate 64 GiB for the VM", e.Message, StringComparison.Ordinal);
        AssertRolledBack(e);
    }

    [Fact]
    public async Task A_frame_corrupted_in_transit_is_reported_with_its_offset_and_rolls_back()
    {
        await using var link = await Loopback.ConnectAsync();

        // Authentication takes 75 bytes from the source; the byte flipped lies 2 MiB into the stream, in round 0's pages.
        var relay = new CorruptingStream(link.Destination, 75 + (2L << 20));
        var destination = MigrationDestination.ReceiveAsync(relay, TransferSetup.Build(), TransferSetup.Start, TransferSetup.Destination());

        var e = await MigrateExpectingFailureAsync(link, TransferSetup.Source());
        await link.Source.DisposeAsync();
        var there = await Assert.ThrowsAsync<MigrationException>(() => destination.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Matches(@"^destination: pages frame checksum mismatch \(stored [0-9a-f]{16}, computed [0-9a-f]{16}\): the frame starting at byte \d+ is corrupt \(at byte \d+\);", e.Message);
        Assert.Contains("pages frame checksum mismatch", there.Message, StringComparison.Ordinal);
        AssertRolledBack(e);
    }

    [Fact]
    public async Task Cancelling_mid_round_rolls_back()
    {
        await using var link = await Loopback.ConnectAsync();
        var destination = MigrationDestination.ReceiveAsync(link.Destination, TransferSetup.Build(), TransferSetup.Start, TransferSetup.Destination());
        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Phase == MigrationPhase.Precopy && p.BytesSent > (4L << 20))
            {
                cancel.Cancel();
            }
        });

        var e = await MigrateExpectingFailureAsync(link, Slow, progress, cancel.Token);
        var there = await Assert.ThrowsAsync<MigrationException>(() => destination.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.StartsWith("cancelled during round 0", e.Message, StringComparison.Ordinal);
        Assert.Matches("cut short|truncated", there.Message);
        AssertRolledBack(e);
    }

    [Fact]
    public async Task A_destination_that_never_confirms_times_out_and_the_paused_vm_resumes()
    {
        await using var link = await Loopback.ConnectAsync();
        var destination = FakeDestination.SilentAsync(link);

        var e = await MigrateExpectingFailureAsync(link, new MigrationOptions { Secret = TransferSetup.Secret, HandoverTimeout = TimeSpan.FromMilliseconds(300) });
        await link.Source.DisposeAsync();
        await destination.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("the destination did not confirm it holds the complete state within 0.3 s", e.Message, StringComparison.Ordinal);
        AssertRolledBack(e);
    }

    [Fact]
    public async Task A_destination_that_never_acknowledges_a_round_times_out()
    {
        await using var link = await Loopback.ConnectAsync();
        var destination = FakeDestination.NeverAcknowledgeAsync(link);

        var e = await MigrateExpectingFailureAsync(link, new MigrationOptions { Secret = TransferSetup.Secret, HandoverTimeout = TimeSpan.FromMilliseconds(300) });
        await link.Source.DisposeAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => destination.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.StartsWith("the destination did not acknowledge round 0 within 0.3 s", e.Message, StringComparison.Ordinal);
        AssertRolledBack(e);
    }

    [Fact]
    public async Task A_destination_that_hangs_with_the_connection_open_stalls_the_source_s_write_and_times_out()
    {
        await using var link = await Loopback.ConnectAsync();
        var sourceDone = new TaskCompletionSource();
        var destination = FakeDestination.HangAfterAuthenticationAsync(link, sourceDone.Task);

        // 32 MiB of pages: more than the loopback socket buffers hold, so a write blocks once the destination stops reading.
        var e = await MigrateExpectingFailureAsync(link, new MigrationOptions { Secret = TransferSetup.Secret, StallTimeout = TimeSpan.FromMilliseconds(300) });
        sourceDone.SetResult();
        await destination.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("the connection stalled during round 0: the destination took no bytes for 0.3 s with the connection open", e.Message, StringComparison.Ordinal);
        AssertRolledBack(e);
    }

    [Fact]
    public async Task A_source_that_gives_up_during_the_hand_over_makes_the_destination_discard_the_machine()
    {
        await using var link = await Loopback.ConnectAsync();
        RiscVMachine? built = null;
        var build = TransferSetup.Build();
        using var sourceGaveUp = new ManualResetEventSlim();
        var destination = MigrationDestination.ReceiveAsync(
            link.Destination,
            state =>
            {
                // Slower than the source waits: the destination is ready only once the source has given up.
                built = (RiscVMachine)build(state);
                sourceGaveUp.Wait(TimeSpan.FromSeconds(30));
                return built;
            },
            TransferSetup.Start,
            TransferSetup.Destination());

        var e = await MigrateExpectingFailureAsync(link, new MigrationOptions { Secret = TransferSetup.Secret, HandoverTimeout = TimeSpan.FromMilliseconds(200) });
        sourceGaveUp.Set();
        var there = await Assert.ThrowsAsync<MigrationException>(() => destination.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.StartsWith("the destination did not confirm", e.Message, StringComparison.Ordinal);
        Assert.StartsWith("hand-over failed: the source gave up: source: the destination did not confirm", there.Message, StringComparison.Ordinal);
        Assert.Equal(MigrationOutcome.RolledBack, there.Outcome);
        Assert.Equal(MachineExitKind.Terminated, (await built!.Completion.WaitAsync(TimeSpan.FromSeconds(5))).Kind);
        AssertRolledBack(e);
    }

    [Fact]
    public async Task A_destination_that_cannot_start_after_the_commit_leaves_the_source_paused_with_an_unknown_outcome()
    {
        await using var link = await Loopback.ConnectAsync();
        var destination = MigrationDestination.ReceiveAsync(
            link.Destination, TransferSetup.Build(), _ => throw new InvalidOperationException("no vCPU thread available"), TransferSetup.Destination());

        var e = await Assert.ThrowsAsync<MigrationException>(
            () => MigrationSource.MigrateAsync(_source, link.Source, [], TransferSetup.Source()).WaitAsync(TimeSpan.FromSeconds(60)));
        var there = await Assert.ThrowsAsync<MigrationException>(() => destination.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(MigrationOutcome.Unknown, e.Outcome);
        Assert.Contains("destination: the destination could not start the VM: no vCPU thread available", e.Message, StringComparison.Ordinal);
        Assert.Contains("it stays paused here", e.Message, StringComparison.Ordinal);
        Assert.Equal(MigrationOutcome.Unknown, there.Outcome);
        Assert.Equal(MachineRunState.Paused, _source.State);
        Assert.Equal(_hash, TransferSetup.Hash(_source));
    }

    public void Dispose()
    {
        _source.Dispose();
        _console.Dispose();
    }

    private async Task<MigrationException> MigrateExpectingFailureAsync(
        Loopback link, MigrationOptions options, IProgress<MigrationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        await Assert.ThrowsAsync<MigrationException>(
            () => MigrationSource.MigrateAsync(_source, link.Source, [], options, progress, cancellationToken).WaitAsync(TimeSpan.FromSeconds(60)));

    private void AssertRolledBack(MigrationException e)
    {
        Assert.Equal(MigrationOutcome.RolledBack, e.Outcome);
        Assert.EndsWith("; the migration was rolled back and the VM keeps running here", e.Message, StringComparison.Ordinal);
        // Resume returns before the vCPU thread has left its parking place.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (_source.State != MachineRunState.Running && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(1);
        }

        Assert.Equal(MachineRunState.Running, _source.State);
        Assert.Equal(0, _source.Throttle);
        Assert.Equal(_hash, TransferSetup.Hash(_source));
        Assert.False(_source.Completion.IsCompleted);
    }
}
