using System.Net;

namespace Migration.Networking.Relay;

/// <summary>A guest TCP socket bound to a port of the relay, not listening yet.</summary>
internal sealed class RelayBinding(uint id, IPEndPoint endpoint, bool takeover)
{
    public uint Id { get; } = id;

    public IPEndPoint Endpoint { get; } = endpoint;

    /// <summary>The port was the VM's already (a restore): it is not this host's to release until the VM runs here.</summary>
    public bool Takeover { get; } = takeover;
}
