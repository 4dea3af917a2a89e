using System.Net;
using System.Net.Sockets;
using System.Text;
using Migration.Core.Checkpoints;
using Migration.Machine.RiscV;
using Migration.Machine.Tests.Transfer;
using Migration.Networking.Repair;
using Xunit.Abstractions;

namespace Migration.Machine.Tests.Continuity;

/// <summary>
/// A checkpoint the VM stops with, resumed on the same host with TCP repair: a client that stayed connected across it —
/// and that sent a request while no VM existed — carries on on the same connection.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(ContinuityCollection.Name)]
public sealed class RepairResumeTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("migration-repair-").FullName;

    [Fact]
    public async Task A_client_keeps_its_connection_through_a_stop_checkpoint_and_a_resume()
    {
        if (RepairSupport.Probe() is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return;
        }

        using var networkLock = NetworkLock.Open();
        var hosts = new RepairHosts(networkLock, 6379);
        using var console = new ConsoleCapture();
        var vm = RiscVMachine.Load(RepositoryPaths.Guest("kv"), hosts.Options(64UL << 20, console.Stream));
        CheckpointResult checkpoint;
        IPEndPoint server;
        using var client = new TcpClient { NoDelay = true };
        try
        {
            server = await RepairHosts.StartAsync(vm);
            await client.ConnectAsync(server);
            var stream = client.GetStream();
            Assert.Equal("+OK\r\n", await AskAsync(stream, "SET kept before\r\n", 5));
            checkpoint = await new CheckpointDirectory(_directory).WriteAsync(vm, stop: true);
            Assert.Equal(1 + 1, checkpoint.Sockets);
        }
        finally
        {
            vm.Dispose();
        }

        // No VM holds the connection now; this request is dropped by the lock and sent again by the client's kernel.
        var pending = AskAsync(client.GetStream(), "GET kept\r\n", "$6\r\nbefore\r\n".Length);
        var resumed = await RiscVCheckpoint.ResumeFileAsync(checkpoint.Path!, hosts.Options(64UL << 20, console.Stream));
        using var machine = resumed.Machine;
        machine.Start();

        Assert.Equal("$6\r\nbefore\r\n", await pending.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("+OK\r\n", await AskAsync(client.GetStream(), "SET after resume\r\n", 5));
        Assert.Equal(server.Port, Assert.Single(resumed.Rebindings).Current.Port);
        Assert.Empty(networkLock.Locked());
        Assert.False(machine.Completion.IsCompleted, $"kv ended: {console.Text}");
    }

    [Fact]
    public async Task A_stop_checkpoint_that_cannot_be_written_leaves_the_vm_running_with_its_connections()
    {
        if (RepairSupport.Probe() is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return;
        }

        using var networkLock = NetworkLock.Open();
        var hosts = new RepairHosts(networkLock, 6379);
        using var console = new ConsoleCapture();
        using var vm = RiscVMachine.Load(RepositoryPaths.Guest("kv"), hosts.Options(64UL << 20, console.Stream));
        var server = await RepairHosts.StartAsync(vm);
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(server);
        Assert.Equal("+OK\r\n", await AskAsync(client.GetStream(), "SET kept before\r\n", 5));

        // A stream that refuses the first write: the file is never there, so the VM must not stop.
        var broken = new MemoryStream();
        await broken.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Checkpoint.CaptureAsync(vm, broken, stop: true));

        Assert.Equal("$6\r\nbefore\r\n", await AskAsync(client.GetStream(), "GET kept\r\n", 12));
        using var second = new TcpClient();
        await second.ConnectAsync(server);
        Assert.Equal("+PONG\r\n", await AskAsync(second.GetStream(), "PING\r\n", 7));
        Assert.Empty(networkLock.Locked());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task<string> AskAsync(NetworkStream stream, string command, int replyLength)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command));
        var reply = new byte[replyLength];
        await stream.ReadExactlyAsync(reply).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        return Encoding.ASCII.GetString(reply);
    }
}
