using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Migration.Host.Api;
using Migration.Host.Client;
using Migration.Networking.Relay;
using Migration.Networking.Repair;
using Xunit.Abstractions;

namespace Migration.Host.Tests;

/// <summary>
/// Two daemon processes on loopback — with TCP repair, which they chose by themselves (<c>--network auto</c>), or with
/// the relay: a client connected to the kv guest keeps its one connection while the real command line migrates the VM
/// back and forth.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ConnectionContinuityEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private const int Migrations = 6;

    private readonly string _directory = Directory.CreateTempSubdirectory("migration-continuity-").FullName;

    [Fact]
    public async Task A_client_keeps_its_connection_to_kv_while_the_cli_migrates_it_between_two_daemons()
    {
        if (RepairSupport.Probe() is { } reason)
        {
            output.WriteLine($"skipped: TCP repair is not available here: {reason}");
            return;
        }

        var secret = TestDaemon.WriteSecret(_directory, "the same secret on both hosts", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var a = await DaemonProcess.StartAsync("a", _directory, secret);
        using var b = await DaemonProcess.StartAsync("b", _directory, secret);
        Assert.Contains("network repair", a.Log, StringComparison.Ordinal);
        await MigrateUnderPingAsync(a, b, NetworkBackend.Repair);
    }

    [Fact]
    public async Task A_client_keeps_its_connection_through_the_relay_while_the_cli_migrates_kv_between_two_daemons()
    {
        var secret = TestDaemon.WriteSecret(_directory, "the same secret on the hosts and the relay", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var key = HostSecret.Load(secret);
        await using var relay = RelayServer.Start(new IPEndPoint(IPAddress.Loopback, 0), key.Key);
        string[] options = ["--network", "relay", "--relay", relay.Endpoint.ToString()];
        using var a = await DaemonProcess.StartAsync("a", _directory, secret, null, "127.0.0.1", options);
        using var b = await DaemonProcess.StartAsync("b", _directory, secret, null, "127.0.0.1", options);
        Assert.Contains("network relay", a.Log, StringComparison.Ordinal);
        await MigrateUnderPingAsync(a, b, NetworkBackend.Relay);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task MigrateUnderPingAsync(DaemonProcess a, DaemonProcess b, NetworkBackend backend)
    {
        using var clientA = a.Client();
        Assert.Equal(backend, (await clientA.GetHostAsync()).Network);
        var vm = await clientA.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("kv"), 64UL << 20, Ports: ["6379:0"]));
        var port = await HostPortAsync(clientA, vm.Id);
        Assert.Equal("OK", await KvClient.CommandAsync(port, "set", "before", "migration"));

        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(IPAddress.Loopback, port);
        using var ping = new PingClient(socket, TimeSpan.FromMinutes(3));
        await ping.WaitForReplyAfterAsync(Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(10));

        var figures = new MigrationFigures();
        var hosts = new[] { a, b };
        for (var i = 0; i < Migrations; i++)
        {
            await figures.MigrateAsync(hosts[i % 2].Api, vm.Id, hosts[(i + 1) % 2].MigrationEndpoint, ping);
        }

        output.WriteLine($"{backend}: {figures.Summary()}");
        Assert.Null(ping.Error);
        var after = await clientA.GetVmAsync(vm.Id);
        Assert.Equal(backend, after.Network);
        Assert.Equal(VmState.Running, after.State);
        Assert.Equal("migration", await KvClient.CommandAsync(port, "get", "before"));
    }

    private static async Task<int> HostPortAsync(ApiClient client, string id)
    {
        var vm = await Eventually.UntilAsync(() => client.GetVmAsync(id), v => v.Ports.Any(p => p.GuestPort == 6379 && p.Host is not null), "kv listens");
        var host = vm.Ports.First(p => p.GuestPort == 6379 && p.Host is not null).Host!;
        return int.Parse(host[(host.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
    }
}
