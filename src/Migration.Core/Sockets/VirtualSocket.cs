using MessagePack;

namespace Migration.Core.Sockets;

/// <summary>
/// The socket structure: everything a guest socket is, independent of the host socket that currently backs it.
/// This record is what a checkpoint or a migration captures and what the restore engine re-binds.
/// </summary>
/// <remarks>Integer keys are never reused; a removed field leaves its key unused. Bump <see cref="FormatVersion"/> when the meaning of a key changes.</remarks>
[MessagePackObject]
public sealed class VirtualSocket
{
    public const int FormatVersion = 1;

    [Key(0)]
    public int Version { get; set; } = FormatVersion;

    /// <summary>The guest's handle; unique within the machine and unchanged by checkpoints and migrations.</summary>
    [Key(1)]
    public int Id { get; set; }

    [Key(2)]
    public VirtualSocketType Type { get; set; }

    [Key(3)]
    public VirtualSocketProtocol Protocol { get; set; }

    [Key(4)]
    public VirtualAddressFamily Family { get; set; }

    [Key(5)]
    public SocketOptions Options { get; set; } = new();

    [Key(6)]
    public bool Blocking { get; set; } = true;

    /// <summary>Local address as the guest bound it (or as it was assigned), guest view.</summary>
    [Key(7)]
    public GuestEndpoint? LocalAddress { get; set; }

    /// <summary>The peer as the guest sees it.</summary>
    [Key(8)]
    public GuestEndpoint? RemoteAddress { get; set; }

    /// <summary>The host address and port that currently carries this socket (textual, for reports).</summary>
    [Key(9)]
    public string? HostEndpoint { get; set; }

    [Key(10)]
    public SocketStatus Status { get; set; }

    /// <summary>Events as of the last change; recomputed from the queues and flags, kept for inspection.</summary>
    [Key(11)]
    public SocketEvents Events { get; set; }

    /// <summary>Bytes the guest sent that have not yet left for the peer.</summary>
    [Key(12)]
    public ByteQueue SendQueue { get; set; } = new();

    /// <summary>Bytes that arrived and the guest has not read yet.</summary>
    [Key(13)]
    public ByteQueue ReceiveQueue { get; set; } = new();

    /// <summary>Connections that arrived on a listening socket and await the guest's accept.</summary>
    [Key(14)]
    public List<VirtualSocket> ConnectionQueue { get; set; } = [];

    [Key(15)]
    public int Backlog { get; set; }

    /// <summary>Datagrams received on a UDP socket, oldest first.</summary>
    [Key(16)]
    public List<Datagram> DatagramQueue { get; set; } = [];

    /// <summary>Errno to report through SO_ERROR or the next call (e.g. ECONNREFUSED); 0 when none.</summary>
    [Key(17)]
    public int PendingError { get; set; }

    /// <summary>The guest shut down its read side.</summary>
    [Key(18)]
    public bool ReadShut { get; set; }

    /// <summary>The guest shut down its write side; a FIN follows once the send queue drains.</summary>
    [Key(19)]
    public bool WriteShut { get; set; }

    /// <summary>The peer closed its sending side: after the receive queue drains, reads return end of stream.</summary>
    [Key(20)]
    public bool PeerClosed { get; set; }

    /// <summary>The connection was reset or failed; further sends fail with EPIPE or ECONNRESET.</summary>
    [Key(21)]
    public bool Reset { get; set; }

    /// <summary>A blocking connect is waiting; the re-issued call collects its outcome.</summary>
    [Key(22)]
    public bool ConnectInProgress { get; set; }

    /// <summary>
    /// The kernel state of this connection when it was frozen for a migration (TCP repair): sequence numbers, the host's
    /// unacknowledged and unread bytes, options. Null while a host socket carries the connection live.
    /// </summary>
    [Key(23)]
    public TcpConnectionState? Connection { get; set; }

    /// <summary>The relay stream and byte counters of a connection the relay backend detached for a migration; null while a host carries it live.</summary>
    [Key(24)]
    public RelayConnectionState? RelayConnection { get; set; }

    /// <summary>Whether a continuity backend froze this connection: its state rides in the record until a host re-creates it.</summary>
    [IgnoreMember]
    public bool IsFrozen => Connection is not null || RelayConnection is not null;

    /// <summary>Backend state for the host endpoint (a host socket and its pumps); never serialized.</summary>
    [IgnoreMember]
    public object? Host { get; set; }

    public const int MaxConnectionQueue = 4096;
    public const int MaxDatagramQueue = 256;

    /// <summary>The events a poll would report now, derived from the structure alone.</summary>
    public SocketEvents ComputeEvents()
    {
        var events = SocketEvents.None;
        switch (Status)
        {
            case SocketStatus.Listening:
                if (ConnectionQueue.Count > 0)
                {
                    events |= SocketEvents.Readable;
                }

                break;
            case SocketStatus.Terminated:
                return SocketEvents.Invalid;
            default:
                if (Type == VirtualSocketType.Datagram)
                {
                    events |= SocketEvents.Writable;
                    if (DatagramQueue.Count > 0)
                    {
                        events |= SocketEvents.Readable;
                    }

                    break;
                }

                if (!ReceiveQueue.IsEmpty || PeerClosed || Reset || ReadShut)
                {
                    events |= SocketEvents.Readable;
                }

                if (Status is SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving or SocketStatus.Shutdown
                    && !SendQueue.IsFull && !WriteShut && !Reset)
                {
                    events |= SocketEvents.Writable;
                }

                if (Reset || Status == SocketStatus.Disconnected)
                {
                    events |= SocketEvents.HangUp;
                }

                break;
        }

        if (PendingError != 0)
        {
            events |= SocketEvents.Error;
        }

        return events;
    }

    /// <summary>Sets Connected/Sending/Receiving from the queues, for a socket in one of those states.</summary>
    public void RefreshConnectedStatus()
    {
        if (Status is SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving)
        {
            Status = !SendQueue.IsEmpty ? SocketStatus.Sending : !ReceiveQueue.IsEmpty ? SocketStatus.Receiving : SocketStatus.Connected;
        }

        Events = ComputeEvents();
    }
}
