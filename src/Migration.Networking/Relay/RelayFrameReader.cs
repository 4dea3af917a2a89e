using System.Buffers.Binary;

namespace Migration.Networking.Relay;

/// <summary>
/// Reads frames from a link, checking each header before its payload is allocated. Every failure names the byte
/// offset of the frame in the link, so a corrupt peer can be found in a capture.
/// </summary>
public sealed class RelayFrameReader(Stream stream)
{
    private readonly byte[] _header = new byte[RelayProtocol.HeaderSize];

    /// <summary>Bytes of the link read so far.</summary>
    public long Offset { get; private set; }

    /// <summary>The next frame; null when the link ends cleanly between frames.</summary>
    public async Task<RelayFrame?> ReadAsync(CancellationToken cancellationToken)
    {
        var start = Offset;
        var got = await stream.ReadAtLeastAsync(_header, _header.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got == 0)
        {
            return null;
        }

        if (got < _header.Length)
        {
            throw new RelayProtocolException($"relay link: the link ended inside the header of the frame at byte {start} ({got} of {RelayProtocol.HeaderSize} bytes)");
        }

        Offset += got;
        var frame = Parse(_header, start);
        var payload = frame.Length == 0 ? [] : new byte[frame.Length];
        got = await stream.ReadAtLeastAsync(payload, payload.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got < payload.Length)
        {
            throw new RelayProtocolException($"relay link: the link ended inside the {frame.Type} frame at byte {start} ({got} of {payload.Length} payload bytes)");
        }

        Offset += got;
        return new RelayFrame(frame.Type, frame.Stream, payload);
    }

    /// <summary>Checks a header: version, a known type and a bounded length.</summary>
    public static (RelayFrameType Type, uint Stream, int Length) Parse(ReadOnlySpan<byte> header, long offset)
    {
        if (header[0] != RelayProtocol.Version)
        {
            throw new RelayProtocolException($"relay link: frame at byte {offset} has version {header[0]}; this build speaks {RelayProtocol.Version}");
        }

        var type = (RelayFrameType)header[1];
        if (!Enum.IsDefined(type))
        {
            throw new RelayProtocolException($"relay link: frame at byte {offset} has unknown type {header[1]}");
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(header[6..]);
        if (length > RelayProtocol.MaxPayload)
        {
            throw new RelayProtocolException($"relay link: {type} frame at byte {offset} declares {length} payload bytes, more than the limit of {RelayProtocol.MaxPayload}");
        }

        return (type, BinaryPrimitives.ReadUInt32LittleEndian(header[2..]), (int)length);
    }
}
