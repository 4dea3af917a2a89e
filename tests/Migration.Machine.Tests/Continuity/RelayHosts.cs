using System.Net;
using System.Security.Cryptography;
using Migration.Core.Machines;
using Migration.Core.Sockets;
using Migration.Core.State;
using Migration.Machine.RiscV;
using Migration.Machine.Tests.Transfer;
using Migration.Networking.Relay;

namespace Migration.Machine.Tests.Continuity;

/// <summary>
/// A relay on loopback and hosts that reach their VM's clients through it: a VM started on one host and built again on
/// the next uses a fresh backend with the same VM identity, as a daemon would.
/// </summary>
internal sealed class RelayHosts : IAsyncDisposable
{
    private readonly PortMap _ports;
    private readonly string _identity;
    private RelayHostNetwork? _next;

    public RelayHosts(int guestPort, string identity = "kv-under-migration")
    {
        Secret = RandomNumberGenerator.GetBytes(32);
        Relay = RelayServer.Start(new IPEndPoint(IPAddress.Loopback, 0), Secret);
        _identity = identity;
        _ports = new PortMap();
        // Port 0: the relay picks a free public port at the first bind; every later host takes that one over.
        _ports.Add(guestPort, new IPEndPoint(IPAddress.Loopback, 0));
    }

    public RelayServer Relay { get; }

    public byte[] Secret { get; }

    public MachineOptions Options(ulong memory, Stream console, params string[] arguments) => new()
    {
        MemorySize = memory,
        Console = console,
        Arguments = arguments,
        Network = Interlocked.Exchange(ref _next, null) ?? new RelayHostNetwork(Relay.Endpoint, Secret, _identity),
        Ports = _ports,
    };

    public Func<RestoredMachineState, IVirtualMachine> Build(Stream console) => TransferSetup.Build(size => Options(size, console));

    /// <summary>
    /// Links the next host to the relay before the migration starts, as a daemon does when a migration is announced:
    /// opening the link (connect, authentication) then stays out of the switch-over.
    /// </summary>
    public void PrepareNextHost()
    {
        var network = new RelayHostNetwork(Relay.Endpoint, Secret, _identity);
        network.Connect();
        Interlocked.Exchange(ref _next, network)?.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _next, null)?.Dispose();
        return Relay.DisposeAsync();
    }
}
