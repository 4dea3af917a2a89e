using System.Net;

namespace Migration.Core.Sockets;

/// <summary>A restored socket could get no host endpoint, not even a new port; the restore was undone.</summary>
public sealed class SocketRebindException : Exception
{
    public SocketRebindException()
    {
    }

    public SocketRebindException(string message)
        : base(message)
    {
    }

    public SocketRebindException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SocketRebindException(int socketId, VirtualSocketProtocol protocol, GuestEndpoint guest, IPEndPoint lastTried, int errno)
        : base($"socket {socketId}: guest {protocol.ToString().ToLowerInvariant()} {guest} cannot be re-bound: host {lastTried} failed with errno {errno}")
    {
        SocketId = socketId;
        Guest = guest;
        Errno = errno;
    }

    public int SocketId { get; }

    public GuestEndpoint? Guest { get; }

    public int Errno { get; }
}
