using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Migration.Host.Api;

namespace Migration.Host.Tests.Faults;

/// <summary>A migration port that another process already listens on: the daemon refuses to start, and a migration sent there keeps the VM home.</summary>
[Trait("Category", "EndToEnd")]
public sealed class PortInUseTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("migration-port-").FullName;

    [Fact]
    public async Task A_destination_whose_migration_port_is_taken_refuses_to_start_and_the_source_keeps_the_vm()
    {
        var secret = TestDaemon.WriteSecret(_directory, "the same secret on both hosts", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var api = Path.Combine(_directory, "b.sock");

        var (code, output, error) = await ProcessRunner.CliAsync(
            "host", "--name", "b", "--api", "unix:" + api, "--migration-port", port.ToString(CultureInfo.InvariantCulture), "--secret-file", secret, "--network", "plain");

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal($"migration: cannot listen for migrations on 127.0.0.1:{port}: the port is in use (another process listens there); give another --migration-port, or 0 for one the system picks\n", error);
        Assert.False(File.Exists(api), "the refused daemon left its API socket behind");

        // The squatter accepts (its backlog does) but never speaks: the source gives up at its timeout and keeps the VM.
        using var a = await DaemonProcess.StartAsync("a", _directory, secret, null, "127.0.0.1", "--network", "plain", "--migration-timeout", "1s");
        using var clientA = a.Client();
        var vm = await clientA.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("counter"), 16UL << 20, Args: ["100000", "5000"]));
        await Eventually.UntilAsync(() => clientA.GetVmAsync(vm.Id), v => v.ConsoleBytes > 0, "the counter runs");
        var baseline = ProcessResources.Threads(a.ProcessId);

        var job = await clientA.WaitForJobAsync((await clientA.MigrateVmAsync(vm.Id, new MigrateVmRequest($"127.0.0.1:{port}"))).Id);

        Assert.Equal(JobState.Failed, job.State);
        Assert.True(job.Error!.StartsWith($"{vm.Id}: ", StringComparison.Ordinal) && job.Error.Contains("keeps running here", StringComparison.Ordinal), job.Error);
        var after = await clientA.GetVmAsync(vm.Id);
        Assert.Equal(VmState.Running, after.State);
        await Eventually.UntilAsync(() => clientA.GetVmAsync(vm.Id), v => v.ConsoleBytes > after.ConsoleBytes, "the counter runs on");
        var text = Encoding.UTF8.GetString((await clientA.ReadConsoleAsync(vm.Id, 0, wait: false)).Data);
        Assert.StartsWith("counter: 100000 rounds of 5000 steps\nround 1/100000 acc=", text, StringComparison.Ordinal);
        await Leftovers.AssertNoneAsync(a, port, baseline, vcpus: 1, _directory);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
