using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Migration.Networking.Relay;

/// <summary>
/// Constants and payload helpers of the relay link. Every frame is a 10-byte header — version (1), type (1), stream
/// (uint32 LE), payload length (uint32 LE) — and the payload. Lengths are bounded before anything is allocated.
/// </summary>
public static class RelayProtocol
{
    public const byte Version = 1;

    public const int HeaderSize = 10;

    /// <summary>The largest payload a frame may carry; data goes in chunks of <see cref="ChunkSize"/>.</summary>
    public const int MaxPayload = 1024 * 1024;

    public const int ChunkSize = 64 * 1024;

    /// <summary>
    /// Bytes either side may have sent and not had acknowledged, per stream and direction. It bounds every buffer: the
    /// relay's copy of client bytes, the host's unread input, and the relay's output to a client (twice this after a
    /// re-attach, when the new host's window opens before the old one's bytes have drained).
    /// </summary>
    public const int Window = 256 * 1024;

    public const int MaxIdentityBytes = 256;

    internal static byte[] Endpoint(IPEndPoint endpoint) => Encoding.UTF8.GetBytes(endpoint.ToString());

    internal static IPEndPoint ParseEndpoint(ReadOnlySpan<byte> bytes, string what)
    {
        var text = Encoding.UTF8.GetString(bytes);
        return IPEndPoint.TryParse(text, out var endpoint)
            ? endpoint
            : throw new RelayProtocolException($"{what} '{text}' is not an address and port");
    }

    internal static byte[] Counter(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    internal static long ReadCounter(ReadOnlySpan<byte> payload, RelayFrameType type) =>
        payload.Length == 8 && BinaryPrimitives.ReadInt64LittleEndian(payload) is var value and >= 0
            ? value
            : throw new RelayProtocolException($"{type} payload must be one non-negative 64-bit counter, got {payload.Length} bytes");
}
