using System.Net;
using System.Net.Sockets;
using System.Text;
using Migration.Machine.RiscV;
using Migration.Machine.Tests.Transfer;
using Migration.Networking.Repair;
using Xunit.Abstractions;

namespace Migration.Machine.Tests.Continuity;

/// <summary>
/// The kv guest on a TCP-repair host of this machine's loopback with one client connected: where every test of a
/// switch-over that fails, stops or resumes begins.
/// </summary>
internal sealed class RepairKv : IDisposable
{
    private RepairKv(ulong memory)
    {
        Lock = NetworkLock.Open();
        Hosts = new RepairHosts(Lock, 6379);
        Memory = memory;
        Vm = RiscVMachine.Load(RepositoryPaths.Guest("kv"), Hosts.Options(memory, Console.Stream));
    }

    public NetworkLock Lock { get; }

    public RepairHosts Hosts { get; }

    public ConsoleCapture Console { get; } = new();

    public ulong Memory { get; }

    /// <summary>The machine that started; a test that stops it disposes it early (disposal is idempotent).</summary>
    public RiscVMachine Vm { get; }

    public IPEndPoint Endpoint { get; private set; } = new(IPAddress.None, 0);

    public TcpClient Client { get; } = new() { NoDelay = true };

    /// <summary>Null, with the reason written to the test output, where this process may not use TCP repair.</summary>
    public static async Task<RepairKv?> StartAsync(ITestOutputHelper output, ulong memory)
    {
        if (RepairSupport.Probe() is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return null;
        }

        var kv = new RepairKv(memory);
        try
        {
            kv.Endpoint = await RepairHosts.StartAsync(kv.Vm);
            await kv.Client.ConnectAsync(kv.Endpoint);
            return kv;
        }
        catch
        {
            kv.Dispose();
            throw;
        }
    }

    /// <summary>Sends a command on <paramref name="client"/> (the test's own client by default) and reads a reply of the given length.</summary>
    public async Task<string> AskAsync(string command, int replyLength, TcpClient? client = null)
    {
        var stream = (client ?? Client).GetStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command), timeout.Token);
        var reply = new byte[replyLength];
        await stream.ReadExactlyAsync(reply, timeout.Token);
        return Encoding.ASCII.GetString(reply);
    }

    public void Dispose()
    {
        Client.Dispose();
        Vm.Dispose();
        Console.Dispose();
        Lock.Dispose();
    }
}
