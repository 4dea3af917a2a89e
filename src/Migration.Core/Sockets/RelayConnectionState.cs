using MessagePack;

namespace Migration.Core.Sockets;

/// <summary>
/// One connection carried by the relay backend (DESIGN §4), detached from its host for a migration: which stream of the
/// relay it is and how far each direction got, so the host that takes over re-attaches and the relay and the host each
/// replay what the other has not received. The bytes themselves are the record's own queues: the send queue starts at
/// <see cref="Acknowledged"/>, and everything up to <see cref="Delivered"/> is in (or was read from) the receive queue.
/// </summary>
/// <remarks>Integer keys are never reused. Counters are absolute byte offsets since the connection opened.</remarks>
[MessagePackObject]
public sealed class RelayConnectionState
{
    public const int FormatVersion = 1;

    [Key(0)]
    public int Version { get; set; } = FormatVersion;

    /// <summary>The relay's number for the connection; unique on that relay while the client is connected.</summary>
    [Key(1)]
    public uint Stream { get; set; }

    /// <summary>Client-to-guest bytes put into the guest's receive queue; the relay resends from here.</summary>
    [Key(2)]
    public long Delivered { get; set; }

    /// <summary>Guest-to-client bytes the relay confirmed; the first byte of the send queue has this offset.</summary>
    [Key(3)]
    public long Acknowledged { get; set; }

    /// <summary>The relay's public address and port that the client reached, for reports.</summary>
    [Key(4)]
    public string Public { get; set; } = "";
}
