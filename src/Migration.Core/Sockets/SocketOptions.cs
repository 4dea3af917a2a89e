using MessagePack;

namespace Migration.Core.Sockets;

/// <summary>Options the guest set; re-applied to every host endpoint that backs the socket.</summary>
[MessagePackObject]
public sealed class SocketOptions
{
    /// <summary>SO_SNDBUF/SO_RCVBUF are clamped to this range, as Linux clamps them to its own.</summary>
    public const int MinBufferSize = 4096;

    public const int MaxBufferSize = 4 << 20;

    [Key(0)]
    public bool ReuseAddress { get; set; }

    [Key(1)]
    public bool NoDelay { get; set; }

    [Key(2)]
    public bool KeepAlive { get; set; }

    [Key(3)]
    public int SendBufferSize { get; set; } = 256 * 1024;

    [Key(4)]
    public int ReceiveBufferSize { get; set; } = 256 * 1024;

    [Key(5)]
    public bool LingerEnabled { get; set; }

    [Key(6)]
    public int LingerSeconds { get; set; }

    public SocketOptions Clone() => (SocketOptions)MemberwiseClone();
}
