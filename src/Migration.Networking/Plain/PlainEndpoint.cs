using System.Net.Sockets;

namespace Migration.Networking.Plain;

/// <summary>The host side of one virtual socket in the plain backend: a host socket and the state of its pumps.</summary>
internal sealed class PlainEndpoint(Socket socket) : IDisposable
{
    public Socket Socket { get; } = socket;

    /// <summary>Cancels the receive and accept loops when the guest closes the socket.</summary>
    public CancellationTokenSource Receiving { get; } = new();

    /// <summary>Cancels sending; on close it fires after a grace period so an unread peer cannot hold the socket forever.</summary>
    public CancellationTokenSource Sending { get; } = new();

    /// <summary>Set when the guest made room in a queue the receive or accept loop is waiting on.</summary>
    public AsyncSignal Room { get; } = new();

    // The flags below are read and written only under the stack's lock.
    public bool Pumping { get; set; }

    public bool FinSent { get; set; }

    public bool CloseRequested { get; set; }

    public bool ReceiveStarted { get; set; }

    public void Dispose()
    {
        Receiving.Cancel();
        Sending.Cancel();
        Socket.Dispose();
        Receiving.Dispose();
        Sending.Dispose();
    }
}
