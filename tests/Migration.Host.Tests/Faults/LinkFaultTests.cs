using System.Globalization;
using System.Net;
using Migration.Host.Api;
using Migration.Host.Client;
using Xunit.Abstractions;

namespace Migration.Host.Tests.Faults;

/// <summary>
/// Live migration of the kv guest (2 MiB of known values) between two real daemons through a <see cref="LinkProxy"/>
/// that cuts or throttles the link: the VM ends up in exactly one place with every value. A link that stalls is given up
/// on both ends within the daemons' --migration-timeout.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class LinkFaultTests(ITestOutputHelper output) : IDisposable
{
    private const string ShortTimeout = "2s";

    // A slow link needs a timeout longer than it takes to carry what the sockets on the way buffer (several MiB).
    private const string DefaultTimeout = "10s";
    private readonly string _directory = Directory.CreateTempSubdirectory("migration-link-").FullName;

    [Fact]
    public async Task A_link_cut_mid_frame_rolls_back_and_kv_keeps_every_value_on_the_source()
    {
        await using var hosts = await HostsAsync(ShortTimeout);
        var (vmId, port) = await KvWithDataAsync(hosts.ClientA);
        var baseline = ProcessResources.Threads(hosts.A.ProcessId);
        await using var proxy = LinkProxy.CuttingAfter(IPEndPoint.Parse(hosts.B.MigrationEndpoint), (1 << 20) + 12_345);

        var job = await hosts.ClientA.WaitForJobAsync((await hosts.ClientA.MigrateVmAsync(vmId, new MigrateVmRequest(proxy.Endpoint))).Id);

        output.WriteLine($"job: {job.Error}");
        Assert.True(proxy.Faulted.IsCompleted, "the proxy never cut the link");
        Assert.Equal(JobState.Failed, job.State);
        Assert.True(job.Error!.StartsWith($"{vmId}: ", StringComparison.Ordinal) && job.Error.Contains("keeps running here", StringComparison.Ordinal), job.Error);
        Assert.Contains("connection", job.Error, StringComparison.Ordinal);
        Assert.Equal(VmState.Running, (await hosts.ClientA.GetVmAsync(vmId)).State);
        await KvData.AssertIntactAsync(port);
        Assert.Equal("OK", await KvClient.CommandAsync(port, "set", "after", "the cut"));
        await DiscardedAsync(hosts.B, hosts.ClientB);
        await Leftovers.AssertNoneAsync(hosts.A, Port(proxy.Endpoint), baseline, vcpus: 1, _directory);
        await Leftovers.AssertNoneAsync(hosts.B, hosts.B.MigrationPort, hosts.BaselineB, vcpus: 0, _directory);
    }

    [Fact]
    public async Task A_slow_link_still_migrates_kv_with_every_value()
    {
        await using var hosts = await HostsAsync(DefaultTimeout);
        var (vmId, _) = await KvWithDataAsync(hosts.ClientA);
        await using var proxy = LinkProxy.Throttled(IPEndPoint.Parse(hosts.B.MigrationEndpoint), 4L << 20);

        var job = await hosts.ClientA.WaitForJobAsync((await hosts.ClientA.MigrateVmAsync(vmId, new MigrateVmRequest(proxy.Endpoint))).Id);

        Assert.True(job.State == JobState.Succeeded, job.Error);
        Assert.True(proxy.Forwarded > KvData.Keys * 2048, $"only {proxy.Forwarded} bytes crossed the link");
        await Assert.ThrowsAsync<ApiException>(() => hosts.ClientA.GetVmAsync(vmId));
        var portB = await HostPortAsync(hosts.ClientB, vmId);
        await KvData.AssertIntactAsync(portB);
        Assert.Equal(VmState.Running, (await hosts.ClientB.GetVmAsync(vmId)).State);
    }

    [Fact]
    public async Task A_stalled_link_is_given_up_on_both_ends_within_the_timeout_and_the_vm_keeps_running_on_the_source()
    {
        await using var hosts = await HostsAsync(ShortTimeout);

        // 32 MiB of written pages: more than every socket buffer on the way holds, so the source's writes block.
        var vm = await hosts.ClientA.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("dirty"), 64UL << 20, Args: ["8192", "0"]));
        await Eventually.UntilAsync(() => hosts.ClientA.GetVmAsync(vm.Id), v => v.ConsoleBytes > 0, "dirty runs");
        var baseline = ProcessResources.Threads(hosts.A.ProcessId);
        await using var proxy = LinkProxy.StallingAfter(IPEndPoint.Parse(hosts.B.MigrationEndpoint), 256 * 1024);

        var job = await hosts.ClientA.WaitForJobAsync((await hosts.ClientA.MigrateVmAsync(vm.Id, new MigrateVmRequest(proxy.Endpoint))).Id);

        output.WriteLine($"job: {job.Error}");
        Assert.True(proxy.Faulted.IsCompleted, "the proxy never stalled the link");
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal(
            $"{vm.Id}: the connection stalled during round 0: the destination took no bytes for 2 s with the connection open; the migration was rolled back and the VM keeps running here",
            job.Error);
        var after = await hosts.ClientA.GetVmAsync(vm.Id);
        Assert.Equal(VmState.Running, after.State);
        await Eventually.UntilAsync(() => hosts.ClientA.GetVmAsync(vm.Id), v => v.InstructionsRetired > after.InstructionsRetired, "the guest runs on");

        // The destination's connection is still open (the proxy holds it): only its own stall timeout ends it.
        await Eventually.UntilAsync(
            () => Task.FromResult(hosts.B.Log), log => log.Contains("the source sent no bytes for 2 s", StringComparison.Ordinal), "the destination gives the stalled stream up");
        await DiscardedAsync(hosts.B, hosts.ClientB);
        await Leftovers.AssertNoneAsync(hosts.A, Port(proxy.Endpoint), baseline, vcpus: 1, _directory);
        await Leftovers.AssertNoneAsync(hosts.B, hosts.B.MigrationPort, hosts.BaselineB, vcpus: 0, _directory);
    }

    private static async Task DiscardedAsync(DaemonProcess host, ApiClient client)
    {
        await Eventually.UntilAsync(
            () => Task.FromResult(host.Log), log => log.Contains("incoming migration from", StringComparison.Ordinal), "the destination reports the failed incoming migration");
        Assert.Empty(await client.ListVmsAsync());
    }

    private async Task<TwoHosts> HostsAsync(string timeout)
    {
        var secret = TestDaemon.WriteSecret(_directory, "the same secret on both hosts", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var a = await DaemonProcess.StartAsync("a", _directory, secret, null, "127.0.0.1", "--network", "plain", "--migration-timeout", timeout);
        var b = await DaemonProcess.StartAsync("b", _directory, secret, null, "127.0.0.1", "--network", "plain", "--migration-timeout", timeout);
        return new TwoHosts(a, b, ProcessResources.Threads(b.ProcessId));
    }

    private static async Task<(string VmId, int Port)> KvWithDataAsync(ApiClient client)
    {
        var vm = await client.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("kv"), 64UL << 20, Ports: ["6379:0"]));
        var port = await HostPortAsync(client, vm.Id);
        await KvData.FillAsync(port);
        return (vm.Id, port);
    }

    private static async Task<int> HostPortAsync(ApiClient client, string id)
    {
        var vm = await Eventually.UntilAsync(() => client.GetVmAsync(id), v => v.Ports.Any(p => p.GuestPort == 6379 && p.Host is not null), "kv listens");
        return Port(vm.Ports.First(p => p.GuestPort == 6379 && p.Host is not null).Host!);
    }

    private static int Port(string endpoint) => int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
