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

    /// <summary>The accept, receive or datagram loop, awaited when a connection is frozen.</summary>
    public Task ReceiveLoop { get; set; } = Task.CompletedTask;

    public Task PumpLoop { get; set; } = Task.CompletedTask;

    /// <summary>Set before a freeze cancels the loops: the failures that follow are the freeze, not a reset of the connection.</summary>
    public bool Frozen
    {
        get => Volatile.Read(ref _frozen);
        set => Volatile.Write(ref _frozen, value);
    }

    /// <summary>
    /// Bytes the kernel confirmed taking through this socket (written by the pump only): a freeze compares it with the
    /// kernel's own count, which for a connection this host opened also holds its acknowledged SYN — hence the one.
    /// </summary>
    public long KernelAccepted { get; set; }

    /// <summary>When the receive loop last took bytes from the kernel (<see cref="System.Diagnostics.Stopwatch"/> ticks): a freeze waits for a quiet moment.</summary>
    public long LastReceived
    {
        get => Volatile.Read(ref _lastReceived);
        set => Volatile.Write(ref _lastReceived, value);
    }

    /// <summary>Bytes a restored connection had queued but never sent; the pump sends them before anything of the guest's.</summary>
    public ReadOnlyMemory<byte> PendingTail { get; set; }

    /// <summary>For a restored connection whose peer had closed: bytes left to read before the guest sees end of stream.</summary>
    public int? EndOfStreamAfter { get; set; }

    private bool _frozen;
    private long _lastReceived;

    public void Dispose()
    {
        Receiving.Cancel();
        Sending.Cancel();
        Socket.Dispose();
        Receiving.Dispose();
        Sending.Dispose();
    }
}
