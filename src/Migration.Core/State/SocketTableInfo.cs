using MessagePack;

namespace Migration.Core.State;

/// <summary>
/// Heads the socket table: how many "socket" sections follow. Each socket travels in its own section so that one
/// section stays within the frame bound however many sockets a guest holds.
/// </summary>
[MessagePackObject]
public sealed class SocketTableInfo
{
    public const int SectionVersion = 1;

    [Key(0)]
    public int Count { get; set; }
}
