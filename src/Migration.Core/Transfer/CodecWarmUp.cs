using Migration.Core.Sockets;
using Migration.Core.State;

namespace Migration.Core.Transfer;

/// <summary>
/// MessagePack builds a type's serializer on first use, ~100 ms for the socket records on this machine class. The socket
/// table is written and read during the pause, so both ends build those serializers once, before any state moves.
/// </summary>
internal static class CodecWarmUp
{
    private static readonly Lazy<bool> Done = new(() =>
    {
        var table = SectionCodec.Encode(SectionNames.Sockets, SocketTableInfo.SectionVersion, new SocketTableInfo());
        var socket = SectionCodec.Encode(SectionNames.Socket, VirtualSocket.FormatVersion, new VirtualSocket());
        _ = SectionCodec.Decode<SocketTableInfo>(table, SocketTableInfo.SectionVersion);
        _ = SectionCodec.Decode<VirtualSocket>(socket, VirtualSocket.FormatVersion);
        return true;
    });

    public static void Run() => _ = Done.Value;
}
