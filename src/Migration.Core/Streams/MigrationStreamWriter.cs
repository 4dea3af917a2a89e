using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Migration.Core.State;

namespace Migration.Core.Streams;

/// <summary>
/// Writes a migration stream: the header, then frames, then the end frame with the digest. One writer per stream,
/// used from one thread at a time. The same writer serves checkpoint files and live migration.
/// </summary>
public sealed class MigrationStreamWriter
{
    private readonly Stream _output;
    private readonly string _machineKind;
    private readonly XxHash3 _frameHash = new();
    private readonly XxHash3 _digest = new();
    private readonly byte[] _small = new byte[StreamFormat.FrameHeaderSize + StreamFormat.EndLength + StreamFormat.ChecksumSize];
    private bool _started;
    private bool _completed;

    public MigrationStreamWriter(Stream output, string machineKind)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(machineKind);
        if (!StreamFormat.IsValidName(Encoding.ASCII.GetBytes(machineKind), StreamFormat.MaxMachineKindLength))
        {
            throw new ArgumentException($"machine kind '{machineKind}' is not 1..{StreamFormat.MaxMachineKindLength} of [a-z0-9_-]", nameof(machineKind));
        }

        _output = output;
        _machineKind = machineKind;
    }

    public long BytesWritten { get; private set; }

    /// <summary>Frames written so far, not counting the end frame.</summary>
    public long Frames { get; private set; }

    public async ValueTask WriteHeaderAsync(CancellationToken cancellationToken = default)
    {
        if (_started)
        {
            throw new InvalidOperationException("the header has already been written");
        }

        _started = true;
        var kind = Encoding.ASCII.GetBytes(_machineKind);
        var header = new byte[StreamFormat.HeaderFixedSize + kind.Length + StreamFormat.ChecksumSize];
        StreamFormat.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), StreamFormat.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(10), 0);
        header[12] = (byte)kind.Length;
        kind.CopyTo(header, StreamFormat.HeaderFixedSize);
        var checksum = XxHash3.HashToUInt64(header.AsSpan(0, header.Length - StreamFormat.ChecksumSize));
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(header.Length - StreamFormat.ChecksumSize), checksum);
        AddToDigest(checksum);
        await _output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        BytesWritten += header.Length;
    }

    public async ValueTask WriteSectionAsync(StateSection section, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(section);
        var name = Encoding.ASCII.GetBytes(section.Name);
        if (!StreamFormat.IsValidName(name, StateSection.MaxNameLength))
        {
            throw new ArgumentException($"section name '{section.Name}' is not 1..{StateSection.MaxNameLength} of [a-z0-9_-]", nameof(section));
        }

        if (section.Version is < 1 or > ushort.MaxValue)
        {
            throw new ArgumentException($"section '{section.Name}' version {section.Version} is outside 1..65535", nameof(section));
        }

        var length = 1 + name.Length + 2 + section.Body.Length;
        if (length > StreamFormat.MaxSectionLength)
        {
            throw new ArgumentException($"section '{section.Name}' is {length} bytes; a section frame holds at most {StreamFormat.MaxSectionLength}", nameof(section));
        }

        var payload = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            payload[0] = (byte)name.Length;
            name.CopyTo(payload, 1);
            BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(1 + name.Length), (ushort)section.Version);
            section.Body.CopyTo(payload, 1 + name.Length + 2);
            await WriteFrameAsync(FrameType.Section, payload.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }

    /// <summary>Writes one encoded page batch unchanged (Pages/FORMAT.md), so a reader can decode it straight from the frame.</summary>
    public ValueTask WritePagesAsync(ReadOnlyMemory<byte> batch, CancellationToken cancellationToken = default)
    {
        if (batch.Length is < Pages.PageBatchFormat.MinEncodedLength or > StreamFormat.MaxPagesLength)
        {
            throw new ArgumentException($"a page batch is {Pages.PageBatchFormat.MinEncodedLength}..{StreamFormat.MaxPagesLength} bytes, not {batch.Length}", nameof(batch));
        }

        return WriteFrameAsync(FrameType.Pages, batch, cancellationToken);
    }

    public ValueTask WriteRoundEndAsync(int round, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        var payload = new byte[StreamFormat.RoundEndLength];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)round);
        return WriteFrameAsync(FrameType.RoundEnd, payload, cancellationToken);
    }

    /// <summary>Writes the end frame and flushes; the returned digest names the stream's contents.</summary>
    public async ValueTask<StreamSummary> CompleteAsync(CancellationToken cancellationToken = default)
    {
        EnsureWritable();
        var summary = new StreamSummary(Frames, BytesWritten, _digest.GetCurrentHashAsUInt64());
        var payload = new byte[StreamFormat.EndLength];
        BinaryPrimitives.WriteInt64LittleEndian(payload, summary.Frames);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(8), summary.Bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), summary.Digest);
        await WriteFrameAsync(FrameType.End, payload, cancellationToken).ConfigureAwait(false);
        _completed = true;
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return summary;
    }

    private async ValueTask WriteFrameAsync(FrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        EnsureWritable();
        var header = new byte[StreamFormat.FrameHeaderSize];
        StreamFormat.WriteFrameHeader(header, type, payload.Length);
        _frameHash.Reset();
        _frameHash.Append(header);
        _frameHash.Append(payload.Span);
        var checksum = _frameHash.GetCurrentHashAsUInt64();
        var trailer = new byte[StreamFormat.ChecksumSize];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, checksum);

        // Small frames go out in one write; a page batch is written from its own buffer rather than copied.
        if (payload.Length <= _small.Length - StreamFormat.FrameHeaderSize - StreamFormat.ChecksumSize)
        {
            header.CopyTo(_small, 0);
            payload.CopyTo(_small.AsMemory(StreamFormat.FrameHeaderSize));
            trailer.CopyTo(_small, StreamFormat.FrameHeaderSize + payload.Length);
            await _output.WriteAsync(_small.AsMemory(0, StreamFormat.FrameHeaderSize + payload.Length + StreamFormat.ChecksumSize), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
            await _output.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
            await _output.WriteAsync(trailer, cancellationToken).ConfigureAwait(false);
        }

        BytesWritten += StreamFormat.FrameHeaderSize + payload.Length + StreamFormat.ChecksumSize;
        if (type != FrameType.End)
        {
            Frames++;
            AddToDigest(checksum);
        }
    }

    private void AddToDigest(ulong checksum)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, checksum);
        _digest.Append(bytes);
    }

    private void EnsureWritable()
    {
        if (!_started)
        {
            throw new InvalidOperationException("write the header first");
        }

        if (_completed)
        {
            throw new InvalidOperationException("the stream has been completed");
        }
    }
}
