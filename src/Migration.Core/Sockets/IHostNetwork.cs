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
}
