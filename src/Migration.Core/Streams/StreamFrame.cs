using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Migration.Core.State;

namespace Migration.Core.Streams;

/// <summary>A frame whose checksum has been verified, with its payload in a pooled buffer: dispose it when done.</summary>
public sealed class StreamFrame : IDisposable
{
    private byte[]? _buffer;

    internal StreamFrame(FrameType type, long offset, byte[] buffer, int length)
    {
        Type = type;
        Offset = offset;
        _buffer = buffer;
        Length = length;
    }

    public FrameType Type { get; }

    /// <summary>Stream offset of the frame's first byte.</summary>
    public long Offset { get; }

    public long PayloadOffset => Offset + StreamFormat.FrameHeaderSize;

    public int Length { get; }

    public ReadOnlyMemory<byte> Payload => (_buffer ?? throw new ObjectDisposedException(nameof(StreamFrame))).AsMemory(0, Length);

    /// <summary>Splits a section frame into name, version and body; the body is copied, so the frame can be disposed.</summary>
    public StateSection ToSection()
    {
        if (Type != FrameType.Section)
        {
            throw new InvalidOperationException($"a {StreamFormat.Describe(Type)} frame is not a section");
        }

        var payload = Payload.Span;
        var nameLength = payload[0];
        if (nameLength < 1 || nameLength > StateSection.MaxNameLength || 1 + nameLength + 2 > payload.Length)
        {
            throw new MigrationStreamException($"section name length {nameLength} is outside 1..{StateSection.MaxNameLength} or beyond the frame", PayloadOffset);
        }

        var name = payload.Slice(1, nameLength);
        if (!StreamFormat.IsValidName(name, StateSection.MaxNameLength))
        {
            throw new MigrationStreamException("section name is not [a-z0-9_-]", PayloadOffset + 1);
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(payload[(1 + nameLength)..]);
        return new StateSection(Encoding.ASCII.GetString(name), version, payload[(1 + nameLength + 2)..].ToArray());
    }

    public int ReadRound() => Type == FrameType.RoundEnd
        ? (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(Payload.Span), int.MaxValue)
        : throw new InvalidOperationException($"a {StreamFormat.Describe(Type)} frame is not a round end");

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
