using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Migration.Core.Streams;

/// <summary>
/// Reads a migration stream frame by frame, checking each length against its bound before allocating and each
/// checksum before handing the frame out; the end frame's digest is checked against every frame seen. Every failure
/// is a <see cref="MigrationStreamException"/> naming the problem and the byte offset.
/// </summary>
/// <remarks>
/// Reads block on the underlying stream until a whole frame is there, which is the back-pressure on a socket; the
/// input is complete only when the stream ends, and only then is a short frame reported as truncated.
/// </remarks>
public sealed class MigrationStreamReader
{
    private readonly Stream _input;
    private readonly bool _requireEndOfInput;
    private readonly XxHash3 _frameHash = new();
    private readonly XxHash3 _digest = new();
    private readonly byte[] _frameHeader = new byte[StreamFormat.FrameHeaderSize];
    private long _frames;
    private bool _ended;

    /// <param name="requireEndOfInput">For files: nothing may follow the end frame. A socket may carry more after it.</param>
    public MigrationStreamReader(Stream input, bool requireEndOfInput = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        _input = input;
        _requireEndOfInput = requireEndOfInput;
    }

    public long Offset { get; private set; }

    public StreamHeader? Header { get; private set; }

    /// <summary>Set once the end frame has been read and verified.</summary>
    public StreamSummary? Summary { get; private set; }

    public async ValueTask<StreamHeader> ReadHeaderAsync(CancellationToken cancellationToken = default)
    {
        if (Header is not null)
        {
            throw new InvalidOperationException("the header has already been read");
        }

        var fixedPart = new byte[StreamFormat.HeaderFixedSize];
        await FillAsync(fixedPart, "the header", cancellationToken).ConfigureAwait(false);
        if (!fixedPart.AsSpan(0, 8).SequenceEqual(StreamFormat.Magic))
        {
            throw new MigrationStreamException($"not a migration stream: magic is {Convert.ToHexString(fixedPart, 0, 8)}, expected {Convert.ToHexString(StreamFormat.Magic)} (\"MIGRSTRM\")", 0);
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(fixedPart.AsSpan(8));
        if (version > StreamFormat.Version)
        {
            throw new MigrationStreamException($"format version {version} is newer than this build reads ({StreamFormat.Version})", 8);
        }

        if (version == 0)
        {
            throw new MigrationStreamException("format version 0 is not a valid version", 8);
        }

        var flags = BinaryPrimitives.ReadUInt16LittleEndian(fixedPart.AsSpan(10));
        if (flags != 0)
        {
            throw new MigrationStreamException($"header flags 0x{flags:x4} are not defined in format version {version}", 10);
        }

        var kindLength = fixedPart[12];
        if (kindLength is < 1 or > StreamFormat.MaxMachineKindLength)
        {
            throw new MigrationStreamException($"machine kind length {kindLength} is outside 1..{StreamFormat.MaxMachineKindLength}", 12);
        }

        var rest = new byte[kindLength + StreamFormat.ChecksumSize];
        await FillAsync(rest, "the header", cancellationToken).ConfigureAwait(false);
        var kind = rest.AsSpan(0, kindLength);
        var stored = BinaryPrimitives.ReadUInt64LittleEndian(rest.AsSpan(kindLength));
        var hash = new XxHash3();
        hash.Append(fixedPart);
        hash.Append(kind);
        var computed = hash.GetCurrentHashAsUInt64();
        if (stored != computed)
        {
            throw new MigrationStreamException($"header checksum mismatch (stored {stored:x16}, computed {computed:x16})", StreamFormat.HeaderFixedSize + kindLength);
        }

        if (!StreamFormat.IsValidName(kind, StreamFormat.MaxMachineKindLength))
        {
            throw new MigrationStreamException("machine kind is not [a-z0-9_-]", StreamFormat.HeaderFixedSize);
        }

        AddToDigest(stored);
        Header = new StreamHeader(version, Encoding.ASCII.GetString(kind), (int)Offset);
        return Header;
    }

    /// <summary>The next verified frame, or null once the end frame has been read and the digest matched.</summary>
    public async ValueTask<StreamFrame?> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        if (Header is null)
        {
            throw new InvalidOperationException("read the header first");
        }

        if (_ended)
        {
            return null;
        }

        var frameOffset = Offset;
        var got = await _input.ReadAtLeastAsync(_frameHeader, _frameHeader.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        Offset += got;
        if (got == 0)
        {
            throw new MigrationStreamException("the input ends without an end frame: the stream was cut short", frameOffset);
        }

        if (got < _frameHeader.Length)
        {
            throw new MigrationStreamException($"truncated: a frame header needs {_frameHeader.Length} bytes, the input ends after {got}", Offset);
        }

        var type = (FrameType)_frameHeader[0];
        var bound = StreamFormat.MaxPayloadLength(type);
        if (bound < 0)
        {
            throw new MigrationStreamException($"unknown frame type 0x{_frameHeader[0]:x2}", frameOffset);
        }

        var name = StreamFormat.Describe(type);
        if (_frameHeader[1] != StreamFormat.FrameVersion)
        {
            throw new MigrationStreamException($"{name} frame version {_frameHeader[1]} is not supported; this build reads {StreamFormat.FrameVersion}", frameOffset + 1);
        }

        var flags = BinaryPrimitives.ReadUInt16LittleEndian(_frameHeader.AsSpan(2));
        if (flags != 0)
        {
            throw new MigrationStreamException($"{name} frame flags 0x{flags:x4} are not defined", frameOffset + 2);
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(_frameHeader.AsSpan(4));
        if (length > (uint)bound)
        {
            throw new MigrationStreamException($"{name} frame length {length} exceeds the bound of {bound} bytes", frameOffset + 4);
        }

        if (length < StreamFormat.MinPayloadLength(type))
        {
            throw new MigrationStreamException($"{name} frame length {length} is below the minimum of {StreamFormat.MinPayloadLength(type)} bytes", frameOffset + 4);
        }

        var size = (int)length + StreamFormat.ChecksumSize;
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        var handed = false;
        try
        {
            await FillAsync(buffer.AsMemory(0, size), $"the {name} frame at byte {frameOffset}", cancellationToken).ConfigureAwait(false);
            var stored = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan((int)length));
            _frameHash.Reset();
            _frameHash.Append(_frameHeader);
            _frameHash.Append(buffer.AsSpan(0, (int)length));
            var computed = _frameHash.GetCurrentHashAsUInt64();
            if (stored != computed)
            {
                throw new MigrationStreamException(
                    $"{name} frame checksum mismatch (stored {stored:x16}, computed {computed:x16}): the frame starting at byte {frameOffset} is corrupt",
                    frameOffset + StreamFormat.FrameHeaderSize + length);
            }

            if (type == FrameType.End)
            {
                await VerifyEndAsync(buffer, frameOffset, cancellationToken).ConfigureAwait(false);
                return null;
            }

            _frames++;
            AddToDigest(stored);
            handed = true;
            return new StreamFrame(type, frameOffset, buffer, (int)length);
        }
        finally
        {
            if (!handed)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async ValueTask VerifyEndAsync(byte[] payload, long frameOffset, CancellationToken cancellationToken)
    {
        var frames = BinaryPrimitives.ReadInt64LittleEndian(payload);
        var bytes = BinaryPrimitives.ReadInt64LittleEndian(payload.AsSpan(8));
        var digest = BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(16));
        var payloadOffset = frameOffset + StreamFormat.FrameHeaderSize;
        if (frames != _frames)
        {
            throw new MigrationStreamException($"end frame counts {frames} frames, the stream holds {_frames}: frames were lost or added", payloadOffset);
        }

        if (bytes != frameOffset)
        {
            throw new MigrationStreamException($"end frame counts {bytes} bytes before it, the stream holds {frameOffset}", payloadOffset + 8);
        }

        var computed = _digest.GetCurrentHashAsUInt64();
        if (digest != computed)
        {
            throw new MigrationStreamException($"stream digest mismatch (stored {digest:x16}, computed {computed:x16}): frames were reordered or replaced", payloadOffset + 16);
        }

        if (_requireEndOfInput)
        {
            var probe = new byte[1];
            if (await _input.ReadAsync(probe, cancellationToken).ConfigureAwait(false) != 0)
            {
                throw new MigrationStreamException("data follows the end frame", Offset);
            }
        }

        _ended = true;
        Summary = new StreamSummary(frames, bytes, digest);
    }

    private async ValueTask FillAsync(Memory<byte> destination, string what, CancellationToken cancellationToken)
    {
        var got = await _input.ReadAtLeastAsync(destination, destination.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        Offset += got;
        if (got < destination.Length)
        {
            throw new MigrationStreamException($"truncated: {what} needs {destination.Length - got} more bytes, the input ends at byte {Offset}", Offset);
        }
    }

    private void AddToDigest(ulong checksum)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, checksum);
        _digest.Append(bytes);
    }
}
