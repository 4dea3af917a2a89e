using System.Net;

namespace Migration.Core.Sockets;

/// <summary>
/// A backend that backs virtual sockets with host endpoints (DESIGN §4: plain, TCP repair, relay). Calls come
/// from <see cref="VirtualSocketStack"/> with its lock held; results are 0 or a positive errno. The backend
/// reports what happens on the host through the stack's <c>On…</c> methods, from any thread.
/// </summary>
public interface IHostNetwork : IDisposable
{
    void Attach(VirtualSocketStack stack);

    int Bind(VirtualSocket socket, IPEndPoint host);

    int Listen(VirtualSocket socket, int backlog);

    /// <summary>Starts connecting; completion arrives as OnConnected or OnConnectFailed.</summary>
    int Connect(VirtualSocket socket, IPEndPoint remote);

    /// <summary>The send queue gained bytes, or the guest shut its write side: move what can go.</summary>
    void Transmit(VirtualSocket socket);

    /// <summary>The receive queue (or connection/datagram queue) has room again.</summary>
    void ResumeReceive(VirtualSocket socket);

    int SendDatagram(VirtualSocket socket, IPEndPoint to, ReadOnlySpan<byte> payload);

    void ApplyOptions(VirtualSocket socket);

    void Close(VirtualSocket socket);

    /// <summary>Whether this backend carries established TCP connections through a migration (TCP repair); the plain one does not.</summary>
    bool PreservesConnections => false;

    /// <summary>
    /// The machine is paused for its final capture: freeze the host side of these sockets. Each established TCP connection's
    /// kernel state goes into <see cref="VirtualSocket.Connection"/> and its host socket is let go without a FIN or a reset;
    /// a listener first takes the connections waiting in its host accept queue into its connection queue (they are among
    /// the returned sockets then), then lets go of its port. Called without the stack's lock.
    /// </summary>
    /// <returns>The sockets that are frozen now, including connections taken from accept queues.</returns>
    Task<IReadOnlyList<VirtualSocket>> FreezeAsync(IReadOnlyList<VirtualSocket> sockets, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<VirtualSocket>>([]);

    /// <summary>Re-creates a frozen connection on this host, not yet live (peers see nothing until activation). 0 or an errno.</summary>
    int PrepareConnection(VirtualSocket socket) => SocketErrno.EOPNOTSUPP;

    /// <summary>Puts prepared connections live: lifts the network lock on <paramref name="unlock"/>, then starts them.</summary>
    void ActivateConnections(IReadOnlyList<VirtualSocket> sockets, IReadOnlyList<IPEndPoint> unlock)
    {
    }
}
