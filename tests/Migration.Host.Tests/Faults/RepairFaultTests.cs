using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Migration.Core.Transfer;
using Migration.Host.Api;
using Migration.Host.Client;
using Migration.Networking.Repair;
using Xunit.Abstractions;

namespace Migration.Host.Tests.Faults;

/// <summary>
/// The destination killed while the source holds the kv guest's connections frozen (TCP repair, root only). Before
/// Commit the rollback puts them back and a client's one connection carries on. After Commit the destination had taken
/// the connections over and they die with it; the source holds the VM, and vm resume --force brings it back with its
/// data, serving new connections. The stopped daemons leave no firewall rules of theirs.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class RepairFaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("migration-repairfault-").FullName;

    [Theory]
    [InlineData("stop-and-copy")]
    [InlineData("after-commit")]
    public async Task A_destination_killed_while_connections_are_frozen_leaves_kv_on_the_source_with_every_value(string phase)
    {
        if (RepairSupport.Probe() is { } reason)
        {
            output.WriteLine($"skipped: TCP repair is not available here: {reason}");
            return;
        }

        var secret = TestDaemon.WriteSecret(_directory, "the same secret on both hosts", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var fault = new Dictionary<string, string> { [FaultPoint.Variable] = $"destination:{phase}" };
        using var a = await DaemonProcess.StartAsync("a", _directory, secret, null, "127.0.0.1", "--network", "repair");
        using var b = await DaemonProcess.StartWithEnvironmentAsync("b", _directory, secret, fault, "--network", "repair");
        using var client = a.Client();
        var vm = await client.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("kv"), 64UL << 20, Ports: ["6379:0"]));
        var port = await HostPortAsync(client, vm.Id);
        await KvData.FillAsync(port);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(IPAddress.Loopback, port);
        using var ping = new PingClient(socket, TimeSpan.FromMinutes(2));
        await ping.WaitForReplyAfterAsync(Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(10));
        var baseline = ProcessResources.Threads(a.ProcessId);

        var job = await client.WaitForJobAsync((await client.MigrateVmAsync(vm.Id, new MigrateVmRequest(b.MigrationEndpoint))).Id);

        Assert.Equal(137, await b.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(JobState.Failed, job.State);
        if (phase == "after-commit")
        {
            Assert.True(job.Error!.Contains("outcome is unknown", StringComparison.Ordinal), job.Error);
            Assert.Equal(VmState.Paused, (await client.GetVmAsync(vm.Id)).State);
            var (code, _, error) = await ProcessRunner.CliAsync("vm", "resume", "--api", a.Api, vm.Id, "--force");
            Assert.True(code == 0, $"vm resume --force exited {code}: {error}");
        }
        else
        {
            Assert.True(job.Error!.Contains("rolled back", StringComparison.Ordinal), job.Error);
        }

        if (phase != "after-commit")
        {
            await ping.WaitForReplyAfterAsync(Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(20));
            Assert.Null(ping.Error);
        }

        Assert.Equal(VmState.Running, (await client.GetVmAsync(vm.Id)).State);
        await KvData.AssertIntactAsync(port);
        await Leftovers.AssertNoneAsync(a, b.MigrationPort, baseline, vcpus: 1, _directory);

        Signals.Terminate(Process.GetProcessById(a.ProcessId));
        Assert.Equal(0, await a.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var table = await LockTableAsync();
        foreach (var pid in new[] { a.ProcessId, b.ProcessId })
        {
            Assert.DoesNotContain(string.Create(CultureInfo.InvariantCulture, $"0x{pid:x8}"), table, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(string.Create(CultureInfo.InvariantCulture, $" . {port}"), table, StringComparison.Ordinal);
    }

    /// <summary>The shared lock table as nft prints it, or "" when no host uses it any more.</summary>
    private static async Task<string> LockTableAsync()
    {
        var (code, text, _) = await ProcessRunner.RunAsync("nft", ["list", "table", "inet", NetworkLock.TableName]);
        return code == 0 ? text : "";
    }

    private static async Task<int> HostPortAsync(ApiClient client, string id)
    {
        var vm = await Eventually.UntilAsync(() => client.GetVmAsync(id), v => v.Ports.Any(p => p.GuestPort == 6379 && p.Host is not null), "kv listens");
        var host = vm.Ports.First(p => p.GuestPort == 6379 && p.Host is not null).Host!;
        return int.Parse(host[(host.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
