namespace Migration.Core.Sockets;

/// <summary>Pending events, with the bit values of Linux <c>poll</c> so the guest ABI passes them through.</summary>
[Flags]
public enum SocketEvents : short
{
    None = 0,
    Readable = 0x1,
    Writable = 0x4,
    Error = 0x8,
    HangUp = 0x10,
    Invalid = 0x20,
}
