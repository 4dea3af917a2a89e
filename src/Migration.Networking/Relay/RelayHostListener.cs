using System.Net;
using Migration.Core.Sockets;

namespace Migration.Networking.Relay;

/// <summary>A guest's listening socket, registered on the relay as one of its public listeners.</summary>
internal sealed class RelayHostListener
{
    public RelayHostListener(uint id, VirtualSocket socket, IPEndPoint endpoint, bool active, Action<RelayHostListener> admit)
    {
        Id = id;
        Socket = socket;
        Endpoint = endpoint;
        Active = active;
        Admitting = new SerialWork(() => admit(this));
    }

    public uint Id { get; }

    public VirtualSocket Socket { get; }

    public IPEndPoint Endpoint { get; }

    /// <summary>False while a takeover awaits activation: this host must not tell the relay to close what the VM still uses elsewhere.</summary>
    public bool Active { get; set; }

    public bool Closed { get; set; }

    /// <summary>Clients the relay offered that the guest's connection queue had no room for yet, oldest first. Guarded by the network's lock.</summary>
    public Queue<(uint Stream, IPEndPoint Local, IPEndPoint Remote)> Offers { get; } = new();

    public SerialWork Admitting { get; }
}
