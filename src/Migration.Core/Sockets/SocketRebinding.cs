using System.Net;

namespace Migration.Core.Sockets;

/// <summary>A restored socket that got a host endpoint again: where the guest's port lives now, and where it lived before.</summary>
/// <param name="Previous">From the captured <see cref="VirtualSocket.HostEndpoint"/>; null when the record named none.</param>
public sealed record SocketRebinding(int Id, VirtualSocketProtocol Protocol, GuestEndpoint Guest, IPEndPoint? Previous, IPEndPoint Current)
{
    /// <summary>Clients that knew the old host endpoint must be told; with no previous endpoint there is nothing they could have known.</summary>
    public bool Moved => Previous is not null && !Previous.Equals(Current);
}
