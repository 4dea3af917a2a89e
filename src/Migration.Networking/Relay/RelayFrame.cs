using System.Buffers.Binary;

namespace Migration.Networking.Relay;

/// <summary>One frame of the relay link.</summary>
public readonly record struct RelayFrame(RelayFrameType Type, uint Stream, ReadOnlyMemory<byte> Payload)
{
    /// <summary>Header and payload as one array, ready for the link.</summary>
    public byte[] Encode()
    {
        if (Payload.Length > RelayProtocol.MaxPayload)
        {
            throw new ArgumentException($"a {Type} frame of {Payload.Length} bytes exceeds the limit of {RelayProtocol.MaxPayload}");
        }

        var bytes = new byte[RelayProtocol.HeaderSize + Payload.Length];
        bytes[0] = RelayProtocol.Version;
        bytes[1] = (byte)Type;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(2), Stream);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(6), (uint)Payload.Length);
        Payload.Span.CopyTo(bytes.AsSpan(RelayProtocol.HeaderSize));
        return bytes;
    }
}
