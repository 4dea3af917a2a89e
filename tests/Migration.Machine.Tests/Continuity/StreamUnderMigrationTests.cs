using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;
using Migration.Machine.RiscV;
using Migration.Machine.Tests.Transfer;
using Migration.Networking.Repair;
using Xunit.Abstractions;

namespace Migration.Machine.Tests.Continuity;

/// <summary>
/// Byte streams through the echo guest while it migrates twenty times with TCP repair on loopback: every byte comes back
/// once and in order, on connections the guest accepted and on one the guest opened itself, including connections
/// whose host queues hold bytes at the switch-over.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(ContinuityCollection.Name)]
public sealed class StreamUnderMigrationTests(ITestOutputHelper output)
{
    private const int Migrations = 20;
    private const int StalledBytes = 8 << 20;
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(1_000_000)]
    [InlineData(0)]
    public async Task A_numbered_stream_through_echo_survives_twenty_migrations(long bytesPerSecond)
    {
        if (RepairSupport.Probe() is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return;
        }

        using var networkLock = NetworkLock.Open();
        var hosts = new RepairHosts(networkLock, 7);
        using var console = new ConsoleCapture();
        var vm = RiscVMachine.Load(RepositoryPaths.Guest("echo"), hosts.Options(64UL << 20, console.Stream, "7"));
        var echo = await RepairHosts.StartAsync(vm);
        try
        {
            await using var stream = new NumberedStream(await ConnectAsync(echo), Rate(bytesPerSecond), 1L << 31);
            // Sends 8 MiB and reads nothing back for the first half of the run, so every queue on the way is full.
            await using var stalled = new NumberedStream(await ConnectAsync(echo), null, StalledBytes, readAtOnce: false);
            var queues = new QueuedAtSwitchover();
            var windows = new List<(long From, long To)>();
            for (var i = 0; i < Migrations; i++)
            {
                if (i == Migrations / 2)
                {
                    stalled.StartReading();
                }

                await Task.Delay(50);
                var from = Stopwatch.GetTimestamp();
                var (_, next) = await LiveMigration.RunAsync(vm, build: hosts.Build(console.Stream, queues.Add));
                var to = Stopwatch.GetTimestamp();
                vm.Dispose();
                vm = next;
                windows.Add((from, to));
            }

            await stream.FinishAsync(Drain);
            // All 8 MiB go through before the end: the queues filled while it was not read must drain completely.
            await stalled.SentAll.WaitAsync(Drain);
            await stalled.FinishAsync(Drain);
            var gaps = windows.Select(w => stream.Timeline.LargestGap(w.From, w.To).TotalMilliseconds).ToList();
            output.WriteLine($"{Rate(bytesPerSecond)?.ToString(CultureInfo.InvariantCulture) ?? "full speed"}: {stream.Sent} bytes echoed intact through {Migrations} migrations; stalled connection {stalled.Sent} bytes");
            output.WriteLine($"at switch-over: {queues}");
            output.WriteLine($"client-observed gap per migration, ms: {string.Join(", ", gaps.Select(g => g.ToString("F1", CultureInfo.InvariantCulture)))}; median {Median(gaps):F1}, worst {gaps.Max():F1}");
            Assert.Equal(StalledBytes, stalled.Received);
            Assert.True(queues.ReceiveQueue > 0, $"no connection had unread bytes in its receive queue at a switch-over: {queues}");
            // Loopback acknowledges at once, so what waits in a send queue is mostly never-sent (the peer's window is shut).
            Assert.True(queues.SendQueue + queues.Unsent > 0, $"no connection had bytes in its send queue at a switch-over: {queues}");
            Assert.Empty(networkLock.Locked());
        }
        finally
        {
            vm.Dispose();
        }
    }

    [Fact]
    public async Task A_connection_the_guest_opened_survives_twenty_migrations()
    {
        if (RepairSupport.Probe() is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return;
        }

        using var networkLock = NetworkLock.Open();
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var port = ((IPEndPoint)server.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        var hosts = new RepairHosts(networkLock, 7);
        using var console = new ConsoleCapture();
        var vm = RiscVMachine.Load(RepositoryPaths.Guest("echo"), hosts.Options(64UL << 20, console.Stream, "--connect", "127.0.0.1", port));
        try
        {
            vm.Start();
            using var accepted = await server.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(20));
            await using var stream = new NumberedStream(accepted, 1_000_000, 1L << 30);
            var queues = new QueuedAtSwitchover();
            for (var i = 0; i < Migrations; i++)
            {
                await Task.Delay(50);
                Assert.False(vm.Completion.IsCompleted, $"the guest ended before migration {i + 1}: {console.Text}");
                var (_, next) = await LiveMigration.RunAsync(vm, build: hosts.Build(console.Stream, queues.Add));
                vm.Dispose();
                vm = next;
            }

            await stream.FinishAsync(Drain);
            var exit = await vm.Completion.WaitAsync(TimeSpan.FromSeconds(20));
            output.WriteLine($"{stream.Sent} bytes echoed intact by the guest's own connection through {Migrations} migrations; at switch-over: {queues}");
            Assert.True(exit is { Kind: MachineExitKind.Exited, GuestExitCode: 0 }, $"the guest ended with {exit}: {console.Text}");
            Assert.Contains("echo: connections ended", console.Text, StringComparison.Ordinal);
            Assert.Equal(Migrations, queues.Connections);
        }
        finally
        {
            vm.Dispose();
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static long? Rate(long bytesPerSecond) => bytesPerSecond > 0 ? bytesPerSecond : null;

    private static async Task<Socket> ConnectAsync(IPEndPoint server)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server);
        return socket;
    }

    /// <summary>What the frozen connections held over all switch-overs: bytes in each queue, and how many were frozen.</summary>
    private sealed class QueuedAtSwitchover
    {
        public long ReceiveQueue { get; private set; }

        public long SendQueue { get; private set; }

        public long Unsent { get; private set; }

        public int Connections { get; private set; }

        public void Add(IReadOnlyList<VirtualSocket> sockets)
        {
            foreach (var connection in sockets.Select(s => s.Connection).OfType<TcpConnectionState>())
            {
                Connections++;
                ReceiveQueue += connection.ReceiveQueue.Length;
                SendQueue += connection.SentBytes;
                Unsent += connection.UnsentBytes;
            }
        }

        public override string ToString() =>
            $"{Connections} frozen connections; receive queues {ReceiveQueue} bytes, sent-unacknowledged {SendQueue} bytes, never sent {Unsent} bytes in all";
    }
}
