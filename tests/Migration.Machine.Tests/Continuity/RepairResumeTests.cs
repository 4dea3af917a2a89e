using System.Net.Sockets;
using Migration.Core.Checkpoints;
using Migration.Machine.RiscV;
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
        using var kv = await RepairKv.StartAsync(output, 64UL << 20);
        if (kv is null)
        {
            return;
        }

        Assert.Equal("+OK\r\n", await kv.AskAsync("SET kept before\r\n", 5));
        var checkpoint = await new CheckpointDirectory(_directory).WriteAsync(kv.Vm, stop: true);
        Assert.Equal(1 + 1, checkpoint.Sockets);
        kv.Vm.Dispose();

        // No VM holds the connection now; this request is dropped by the lock and sent again by the client's kernel.
        var pending = kv.AskAsync("GET kept\r\n", "$6\r\nbefore\r\n".Length);
        var resumed = await RiscVCheckpoint.ResumeFileAsync(checkpoint.Path!, kv.Hosts.Options(kv.Memory, kv.Console.Stream));
        using var machine = resumed.Machine;
        machine.Start();

        Assert.Equal("$6\r\nbefore\r\n", await pending.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("+OK\r\n", await kv.AskAsync("SET after resume\r\n", 5));
        Assert.Equal(kv.Endpoint.Port, Assert.Single(resumed.Rebindings).Current.Port);
        Assert.Empty(kv.Lock.Locked());
        Assert.False(machine.Completion.IsCompleted, $"kv ended: {kv.Console.Text}");
    }

    [Fact]
    public async Task A_stop_checkpoint_that_cannot_be_written_leaves_the_vm_running_with_its_connections()
    {
        using var kv = await RepairKv.StartAsync(output, 64UL << 20);
        if (kv is null)
        {
            return;
        }

        Assert.Equal("+OK\r\n", await kv.AskAsync("SET kept before\r\n", 5));

        // A stream that refuses the first write: the file is never there, so the VM must not stop.
        var broken = new MemoryStream();
        await broken.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Checkpoint.CaptureAsync(kv.Vm, broken, stop: true));

        Assert.Equal("$6\r\nbefore\r\n", await kv.AskAsync("GET kept\r\n", 12));
        using var second = new TcpClient();
        await second.ConnectAsync(kv.Endpoint);
        Assert.Equal("+PONG\r\n", await kv.AskAsync("PING\r\n", 7, second));
        Assert.Empty(kv.Lock.Locked());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
