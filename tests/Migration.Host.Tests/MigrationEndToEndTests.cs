using System.Globalization;
using System.Text;
using Migration.Host.Api;
using Migration.Host.Client;
using Migration.Machine.Tests.Guests;

namespace Migration.Host.Tests;

/// <summary>Live migration between two real daemon processes on loopback, driven by the real CLI.</summary>
[Trait("Category", "EndToEnd")]
public sealed class MigrationEndToEndTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("migration-live-").FullName;

    [Fact]
    public async Task A_counter_migrated_mid_run_finishes_on_the_destination_with_exactly_the_uninterrupted_output()
    {
        var secret = TestDaemon.WriteSecret(_directory, "the same secret on both hosts", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var a = await DaemonProcess.StartAsync("a", _directory, secret);
        using var b = await DaemonProcess.StartAsync("b", _directory, secret);
        using var clientA = a.Client();
        using var clientB = b.Client();
        var vm = await clientA.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("counter"), 64UL << 20, Args: ["10", "4000000"]));
        await Eventually.UntilAsync(() => ConsoleTextAsync(clientA, vm.Id), text => text.Contains("round 2/10", StringComparison.Ordinal), "counter reaches round 2");

        var (code, output, error) = await ProcessRunner.CliAsync("migrate", "--api", a.Api, vm.Id, "--to", b.MigrationEndpoint);

        Assert.True(code == 0, $"migrate exited {code}: {error}\n{a.Log}\n{b.Log}");
        Assert.Matches($@"^{vm.Id} migrated to 127\.0\.0\.1:\d+ in [0-9.]+ ms; guest paused [0-9.]+ ms", output);
        await Assert.ThrowsAsync<ApiException>(() => clientA.GetVmAsync(vm.Id));
        var done = await Eventually.UntilAsync(() => clientB.GetVmAsync(vm.Id), v => v.State == VmState.Exited, "the counter ends on the destination");
        Assert.Equal(0, done.Exit!.Code);

        // The destination keeps the console from where it took over: that much of the uninterrupted output, to the byte.
        var expected = CounterReference.Output(10, 4_000_000);
        var chunk = await clientB.ReadConsoleAsync(vm.Id, 0, wait: false);
        var after = Encoding.UTF8.GetString(chunk.Data);
        Assert.InRange(chunk.Offset, 1, expected.Length - 1);
        Assert.Equal(expected[(int)chunk.Offset..], after);
    }

    [Fact]
    public async Task Kv_keeps_every_key_across_a_migration_and_serves_new_clients_on_the_destination()
    {
        var secret = TestDaemon.WriteSecret(_directory, "the same secret on both hosts", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var a = await DaemonProcess.StartAsync("a", _directory, secret);
        using var b = await DaemonProcess.StartAsync("b", _directory, secret);
        using var clientA = a.Client();
        using var clientB = b.Client();
        var vm = await clientA.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("kv"), 64UL << 20, Ports: ["6379:0"]));
        var portA = await HostPortAsync(clientA, vm.Id);
        var keys = Enumerable.Range(0, 500).SelectMany(i => new[] { $"key:{i}", $"value-{i}" }).ToArray();
        Assert.Equal("OK", await KvClient.CommandAsync(portA, ["mset", .. keys]));

        var (code, _, error) = await ProcessRunner.CliAsync("migrate", "--api", a.Api, vm.Id, "--to", b.MigrationEndpoint);
        Assert.True(code == 0, $"migrate exited {code}: {error}\n{b.Log}");

        var portB = await HostPortAsync(clientB, vm.Id);
        Assert.Equal("500", await KvClient.CommandAsync(portB, "dbsize"));
        Assert.Equal("value-0\nvalue-250\nvalue-499", await KvClient.CommandAsync(portB, "mget", "key:0", "key:250", "key:499"));
        Assert.Equal("OK", await KvClient.CommandAsync(portB, "set", "after", "migration"));
        Assert.Equal("migration", await KvClient.CommandAsync(portB, "get", "after"));
        Assert.Equal(VmState.Running, (await clientB.GetVmAsync(vm.Id)).State);
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_on_both_ends_and_the_vm_keeps_running_on_the_source()
    {
        using var a = await DaemonProcess.StartAsync("a", _directory, TestDaemon.WriteSecret(_directory, "one secret for host a only", UnixFileMode.UserRead | UnixFileMode.UserWrite));
        var other = Path.Combine(_directory, "other");
        Directory.CreateDirectory(other);
        using var b = await DaemonProcess.StartAsync("b", _directory, TestDaemon.WriteSecret(other, "another secret for host b only", UnixFileMode.UserRead | UnixFileMode.UserWrite));
        using var clientA = a.Client();
        var vm = await clientA.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("idle"), 32UL << 20));

        var (code, output, error) = await ProcessRunner.CliAsync("migrate", "--api", a.Api, vm.Id, "--to", b.MigrationEndpoint);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("secret", error, StringComparison.Ordinal);
        Assert.Contains($"{vm.Id}: ", error, StringComparison.Ordinal);
        Assert.Contains("keeps running here", error, StringComparison.Ordinal);
        Assert.Equal(VmState.Running, (await clientA.GetVmAsync(vm.Id)).State);
        await Eventually.UntilAsync(() => Task.FromResult(b.Log), log => log.Contains("secret", StringComparison.Ordinal), "the destination reports the refused secret");
    }

    [Fact]
    public async Task A_destination_killed_mid_round_leaves_the_vm_running_on_the_source()
    {
        var secret = TestDaemon.WriteSecret(_directory, "the same secret on both hosts", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var a = await DaemonProcess.StartAsync("a", _directory, secret);
        using var b = await DaemonProcess.StartAsync("b", _directory, secret);
        using var clientA = a.Client();

        // 64 MiB rewritten as fast as the guest can, sent at 8 MiB/s: the migration is still in pre-copy when b dies.
        var vm = await clientA.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("dirty"), 256UL << 20, Args: ["16384", "0"]));
        var job = await clientA.MigrateVmAsync(vm.Id, new MigrateVmRequest(b.MigrationEndpoint, MaxBandwidth: 8L << 20));
        await Eventually.UntilAsync(() => clientA.GetJobAsync(job.Id), j => j.Phase?.Contains("round", StringComparison.Ordinal) == true, "the migration is sending rounds");
        b.Kill();

        var final = await clientA.WaitForJobAsync(job.Id);

        Assert.Equal(JobState.Failed, final.State);
        Assert.StartsWith($"{vm.Id}: ", final.Error, StringComparison.Ordinal);
        Assert.True(final.Error!.Contains("keeps running here", StringComparison.Ordinal), final.Error);
        var after = await clientA.GetVmAsync(vm.Id);
        Assert.Equal(VmState.Running, after.State);
        var progressed = await Eventually.UntilAsync(() => clientA.GetVmAsync(vm.Id), v => v.InstructionsRetired > after.InstructionsRetired, "the guest runs on");
        Assert.True(progressed.InstructionsRetired > after.InstructionsRetired);
    }

    private static async Task<string> ConsoleTextAsync(ApiClient client, string id) =>
        Encoding.UTF8.GetString((await client.ReadConsoleAsync(id, 0, wait: false)).Data);

    private static async Task<int> HostPortAsync(ApiClient client, string id)
    {
        var vm = await Eventually.UntilAsync(() => client.GetVmAsync(id), v => v.Ports.Any(p => p.GuestPort == 6379 && p.Host is not null), "kv listens");
        var host = vm.Ports.First(p => p.GuestPort == 6379 && p.Host is not null).Host!;
        return int.Parse(host[(host.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
