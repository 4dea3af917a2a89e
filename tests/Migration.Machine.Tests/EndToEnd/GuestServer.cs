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
    private readonly TaskCompletionSource<int> _hostPort = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _udpHostPort = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GuestServer(string guest, int guestPort, ulong memory, string[] arguments)
    {
        // Host port 0: the host picks a free port when the guest binds, so parallel tests never race for one.
        var ports = new PortMap();
        ports.Add(guestPort, new IPEndPoint(IPAddress.Loopback, 0));
        Machine = RiscVMachine.Load(RepositoryPaths.Guest(guest), new MachineOptions
        {
            MemorySize = memory,
            Console = Stream.Synchronized(_console),
            Arguments = arguments,
            Network = new PlainHostNetwork(),
            Ports = ports,
        });
        Machine.Sockets!.Bound += (socket, _) =>
        {
            if (socket.LocalAddress?.Port == guestPort && IPEndPoint.TryParse(socket.HostEndpoint ?? "", out var host))
            {
                (socket.Protocol == VirtualSocketProtocol.Tcp ? _hostPort : _udpHostPort).TrySetResult(host.Port);
            }
        };
        Machine.Start();
    }

    public RiscVMachine Machine { get; }

    /// <summary>The host port of the guest's UDP socket on the same guest port (each protocol gets its own when the host picks).</summary>
    public Task<int> UdpHostPortAsync() => _udpHostPort.Task.WaitAsync(TimeSpan.FromSeconds(20));

    public int HostPort => _hostPort.Task.IsCompletedSuccessfully ? _hostPort.Task.Result : throw new InvalidOperationException("the guest has not bound its port yet");

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
        // Bound fires at bind; the guest listens right after, so a connect may need a few tries.
        var port = await _hostPort.Task.WaitAsync(timeout);
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
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(10);
            }
        }
    }
}
