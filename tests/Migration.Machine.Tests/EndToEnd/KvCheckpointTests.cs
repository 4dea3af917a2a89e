using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Migration.Core.Checkpoints;
using Migration.Core.Sockets;
using Migration.Machine.RiscV;
using Migration.Networking.Plain;

namespace Migration.Machine.Tests.EndToEnd;

/// <summary>The kv guest checkpointed under real clients and resumed: keys kept, listener back, connections reset.</summary>
[Trait("Category", "EndToEnd")]
public sealed class KvCheckpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("migration-kv-").FullName;

    [Fact]
    public async Task A_resumed_kv_holds_every_key_written_before_the_checkpoint_and_serves_new_clients()
    {
        var cli = ExternalTool.Require("redis-cli", "redis-tools");
        CheckpointResult checkpoint;
        int oldPort;
        await using (var server = await GuestServer.StartAsync("kv", 6379, 64UL << 20))
        {
            oldPort = server.HostPort;
            var (code, output, error) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", Port(oldPort), "--pipe"],
                TimeSpan.FromMinutes(1), MassInsert(20_000));
            Assert.True(code == 0, error + output);
            Assert.Contains("errors: 0, replies: 20000", output, StringComparison.Ordinal);

            // A client connected across the checkpoint: the plain backend cannot carry its connection.
            using var idle = new TcpClient();
            await idle.ConnectAsync(IPAddress.Loopback, oldPort);

            checkpoint = await new CheckpointDirectory(_directory).WriteAsync(server.Machine);
            Assert.Equal(["OK"], await CliAsync(cli, oldPort, "set", "after-checkpoint", "x"));
        }

        var ports = new PortMap();
        ports.Add(6379, new IPEndPoint(IPAddress.Loopback, 0));
        var resumed = await RiscVCheckpoint.ResumeFileAsync(checkpoint.Path!, new MachineOptions { Network = new PlainHostNetwork(), Ports = ports });
        using var machine = resumed.Machine;
        var listener = Assert.Single(resumed.Rebindings, r => r.Guest.Port == 6379);
        machine.Start();

        // The host port was free again, so the listener is back where clients knew it.
        Assert.Equal(oldPort, listener.Current.Port);
        Assert.Equal(["20000"], await CliAsync(cli, oldPort, "dbsize"));
        Assert.Equal(["v0", "v7", "v19999"], await CliAsync(cli, oldPort, "mget", "key:000000000", "key:000000007", "key:000019999"));
        Assert.Equal([""], await CliAsync(cli, oldPort, "get", "after-checkpoint"));
        Assert.Equal(["OK"], await CliAsync(cli, oldPort, "set", "new", "client"));
        Assert.Equal(["client"], await CliAsync(cli, oldPort, "get", "new"));
        Assert.False(machine.Completion.IsCompleted, "kv ended while serving");
        machine.Terminate();
    }

    private static async Task<string[]> CliAsync(string cli, int port, params string[] command)
    {
        var (code, output, error) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", Port(port), .. command], TimeSpan.FromSeconds(30));
        Assert.True(code == 0, $"redis-cli {string.Join(' ', command)} exited {code}: {error}");
        return output.TrimEnd('\n').Split('\n');
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static byte[] MassInsert(int count)
    {
        var commands = new System.Text.StringBuilder(count * 40);
        for (var i = 0; i < count; i++)
        {
            var k = $"key:{i:D9}";
            var v = $"v{i}";
            commands.Append(CultureInfo.InvariantCulture, $"*3\r\n$3\r\nSET\r\n${k.Length}\r\n{k}\r\n${v.Length}\r\n{v}\r\n");
        }

        return System.Text.Encoding.ASCII.GetBytes(commands.ToString());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
