using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;
using Migration.Machine.RiscV;
using Migration.Networking.Plain;

namespace Migration.Machine.Tests.EndToEnd;

/// <summary>A guest server (kv, echo) running in-process on a free loopback port, for real clients to talk to.</summary>
internal sealed class GuestServer : IAsyncDisposable
{
    private readonly MemoryStream _console = new();

    private GuestServer(string guest, int guestPort, ulong memory, string[] arguments)
    {
        HostPort = FreePort();
        var ports = new PortMap();
        ports.Add(guestPort, new IPEndPoint(IPAddress.Loopback, HostPort));
        Machine = RiscVMachine.Load(RepositoryPaths.Guest(guest), new MachineOptions
        {
            MemorySize = memory,
            Console = Stream.Synchronized(_console),
            Arguments = arguments,
            Network = new PlainHostNetwork(),
            Ports = ports,
        });
        Machine.Start();
    }

    public RiscVMachine Machine { get; }

    public int HostPort { get; }

    public string ConsoleText
    {
        get
        {
            lock (_console)
            {
                return System.Text.Encoding.UTF8.GetString(_console.ToArray());
            }
        }
    }

    public static async Task<GuestServer> StartAsync(string guest, int guestPort, ulong memory = 64UL << 20, params string[] arguments)
    {
        var server = new GuestServer(guest, guestPort, memory, arguments);
        await server.WaitForListenerAsync(TimeSpan.FromSeconds(20));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        Machine.Terminate();
        await Machine.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Machine.Dispose();
        await _console.DisposeAsync();
    }

    private async Task WaitForListenerAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Machine.Completion.IsCompleted)
            {
                throw new InvalidOperationException($"guest ended before listening: {Machine.Completion.Result}; console: {ConsoleText}");
            }

            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, HostPort);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                // The guest has not reached listen() yet; the machine needs a few milliseconds to boot.
                await Task.Delay(20);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
