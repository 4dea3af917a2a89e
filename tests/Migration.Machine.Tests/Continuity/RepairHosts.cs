using System.Net;
using Migration.Core.Machines;
using Migration.Core.Sockets;
using Migration.Core.State;
using Migration.Machine.RiscV;
using Migration.Machine.Tests.Transfer;
using Migration.Networking.Repair;

namespace Migration.Machine.Tests.Continuity;

/// <summary>
/// Hosts that share this machine's network stack and the TCP repair backend: a VM started on one and built again on the
/// next, with the same port map, so a migrated guest keeps its host port.
/// </summary>
internal sealed class RepairHosts(NetworkLock networkLock, int guestPort)
{
    private readonly PortMap _ports = CreatePorts(guestPort);

    public MachineOptions Options(ulong memory, Stream console, params string[] arguments) => new()
    {
        MemorySize = memory,
        Console = console,
        Arguments = arguments,
        Network = new RepairHostNetwork(networkLock),
        Ports = _ports,
    };

    /// <param name="inspect">Sees each restored socket table before the restore uses it.</param>
    public Func<RestoredMachineState, IVirtualMachine> Build(Stream console, Action<IReadOnlyList<VirtualSocket>>? inspect = null)
    {
        var build = TransferSetup.Build(size => Options(size, console));
        return state =>
        {
            inspect?.Invoke(state.Sockets);
            return build(state);
        };
    }

    /// <summary>Starts a VM and returns the host endpoint its first bind got (the port map lets the host pick the port).</summary>
    public static async Task<IPEndPoint> StartAsync(RiscVMachine vm)
    {
        var bound = new TaskCompletionSource<IPEndPoint>(TaskCreationOptions.RunContinuationsAsynchronously);
        vm.Sockets!.Bound += (socket, _) =>
        {
            if (IPEndPoint.TryParse(socket.HostEndpoint ?? "", out var host))
            {
                bound.TrySetResult(host);
            }
        };
        vm.Start();
        return await bound.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    private static PortMap CreatePorts(int guestPort)
    {
        var ports = new PortMap();
        // Port 0: the host picks a free port at the first bind; restores keep the port they had.
        ports.Add(guestPort, new IPEndPoint(IPAddress.Loopback, 0));
        return ports;
    }
}
