using MessagePack;

namespace Migration.Core.Sockets;

/// <summary>
/// The kernel side of one established TCP connection, frozen with TCP repair (DESIGN §4): sequence numbers, both kernel
/// queues, negotiated options and the window — what a host needs to re-create the connection without a handshake, so
/// that the peer never notices. It travels inside its <see cref="VirtualSocket"/> record in the socket table.
/// </summary>
/// <remarks>Integer keys are never reused. Sequence numbers are the kernel's, modulo 2^32.</remarks>
[MessagePackObject]
public sealed class TcpConnectionState
{
    public const int FormatVersion = 1;

    /// <summary>The largest kernel queue a frozen connection may carry (per direction): bounds what a restore allocates.</summary>
    public const int MaxQueueBytes = 64 * 1024 * 1024;

    [Key(0)]
    public int Version { get; set; } = FormatVersion;

    /// <summary>Host address and port of this end, e.g. <c>127.0.0.1:6380</c>; the restored socket binds it again.</summary>
    [Key(1)]
    public string Local { get; set; } = "";

    /// <summary>Host address and port of the peer.</summary>
    [Key(2)]
    public string Remote { get; set; } = "";

    /// <summary>Sequence number after the last byte of <see cref="SendQueue"/> (the kernel's write_seq), excluding a FIN.</summary>
    [Key(3)]
    public uint SendSequence { get; set; }

    /// <summary>Sequence number after the last byte of <see cref="ReceiveQueue"/> (rcv_nxt), excluding the peer's FIN.</summary>
    [Key(4)]
    public uint ReceiveSequence { get; set; }

    /// <summary>Bytes written to the kernel and not yet acknowledged by the peer; the last <see cref="UnsentBytes"/> of them never left.</summary>
    [Key(5)]
    public byte[] SendQueue { get; set; } = [];

    [Key(6)]
    public int UnsentBytes { get; set; }

    /// <summary>Bytes the kernel received and acknowledged that the host had not read yet.</summary>
    [Key(7)]
    public byte[] ReceiveQueue { get; set; } = [];

    [Key(8)]
    public int MaxSegmentSize { get; set; }

    /// <summary>Window scale shifts; -1 when window scaling was not negotiated.</summary>
    [Key(9)]
    public int SendWindowScale { get; set; } = -1;

    [Key(10)]
    public int ReceiveWindowScale { get; set; } = -1;

    [Key(11)]
    public bool SackPermitted { get; set; }

    /// <summary>Whether timestamps were negotiated; <see cref="Timestamp"/> is then this end's clock, so the peer does not drop segments as replays.</summary>
    [Key(12)]
    public bool Timestamps { get; set; }

    [Key(13)]
    public uint Timestamp { get; set; }

    /// <summary>The window as <c>TCP_REPAIR_WINDOW</c> gives it: snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup.</summary>
    [Key(14)]
    public uint[] Window { get; set; } = [];

    /// <summary>This end had sent its FIN (the guest shut its write side): the restored socket sends it again.</summary>
    [Key(15)]
    public bool FinSent { get; set; }

    /// <summary>The peer's FIN had arrived: after <see cref="ReceiveQueue"/> is read, the guest sees end of stream.</summary>
    [Key(16)]
    public bool FinReceived { get; set; }

    /// <summary>Number of bytes at the front of <see cref="SendQueue"/> that have been sent (and may need retransmission).</summary>
    [IgnoreMember]
    public int SentBytes => SendQueue.Length - UnsentBytes;
}
