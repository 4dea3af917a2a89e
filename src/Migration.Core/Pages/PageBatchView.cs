using System.Buffers.Binary;
using System.IO.Hashing;

namespace Migration.Core.Pages;

/// <summary>
/// A batch whose framing, checksum and page table have been checked; LZ4 payloads are not yet decoded.
/// </summary>
public readonly ref struct PageBatchView
{
    private readonly ReadOnlySpan<byte> _batch;

    private PageBatchView(ReadOnlySpan<byte> batch, int pageCount, int payloadLength, PageBatchStats stats)
    {
        _batch = batch;
        PageCount = pageCount;
        PayloadLength = payloadLength;
        Stats = stats;
    }

    public int PageCount { get; }

    public int PayloadLength { get; }

    public PageBatchStats Stats { get; }

    /// <summary>
    /// Checks, in this order: the header's fixed fields, that the span is exactly the length they describe, the
    /// checksum, then every page number (strictly ascending, below <paramref name="pageLimit"/>) and descriptor.
    /// </summary>
    public static PageBatchView Parse(ReadOnlySpan<byte> batch, int pageLimit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageLimit);
        var length = PageBatchFormat.ReadEncodedLength(batch);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(batch[6..]);
        var payloadLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(batch[8..]);
        if (batch.Length < length)
        {
            throw new PageBatchException(
                $"truncated: {batch.Length} bytes, but the header (page count {count}, payload {payloadLength}) describes a {length}-byte batch",
                batch.Length);
        }

        if (batch.Length > length)
        {
            throw new PageBatchException(
                $"{batch.Length - length} bytes beyond the {length}-byte batch the header (page count {count}, payload {payloadLength}) describes",
                length);
        }

        var checksumAt = length - PageBatchFormat.ChecksumSize;
        var storedChecksum = BinaryPrimitives.ReadUInt64LittleEndian(batch[checksumAt..]);
        var computed = XxHash3.HashToUInt64(batch[..checksumAt]);
        if (storedChecksum != computed)
        {
            throw new PageBatchException($"checksum mismatch: stored 0x{storedChecksum:x16}, computed 0x{computed:x16}", checksumAt);
        }

        var descriptorsAt = PageBatchFormat.DescriptorsOffset(count);
        long previous = -1;
        long sum = 0;
        int zero = 0, raw = 0, lz4 = 0;
        for (var i = 0; i < count; i++)
        {
            var numberAt = PageBatchFormat.HeaderSize + (i * PageBatchFormat.PageNumberSize);
            var page = BinaryPrimitives.ReadUInt32LittleEndian(batch[numberAt..]);
            if (page >= (uint)pageLimit)
            {
                throw new PageBatchException($"page {page} (entry {i}) is outside the target's {pageLimit} pages", numberAt);
            }

            if (page <= previous)
            {
                throw new PageBatchException($"page {page} (entry {i}) follows page {previous}: page numbers must be strictly ascending", numberAt);
            }

            previous = page;
            var descriptorAt = descriptorsAt + (i * PageBatchFormat.DescriptorSize);
            var descriptor = BinaryPrimitives.ReadUInt16LittleEndian(batch[descriptorAt..]);
            var kind = (PageKind)(descriptor >> PageBatchFormat.KindShift);
            var storedLength = descriptor & PageBatchFormat.LengthMask;
            switch (kind)
            {
                case PageKind.Zero when storedLength == 0:
                    zero++;
                    break;
                case PageKind.Raw when storedLength == PageBatchFormat.PageSize:
                    raw++;
                    break;
                case PageKind.Lz4 when storedLength is > 0 and <= PageBatchFormat.PageSize:
                    lz4++;
                    break;
                case PageKind.Zero or PageKind.Raw or PageKind.Lz4:
                    throw new PageBatchException($"page {page} (entry {i}): length {storedLength} is invalid for a {kind} page", descriptorAt);
                default:
                    throw new PageBatchException($"page {page} (entry {i}): kind {(int)kind} is not defined", descriptorAt);
            }

            sum += storedLength;
        }

        if (sum != payloadLength)
        {
            throw new PageBatchException($"page lengths add up to {sum} bytes but the header's payload length is {payloadLength}", 8);
        }

        return new PageBatchView(batch, count, payloadLength, new PageBatchStats(1, count, zero, raw, lz4, length));
    }

    public ReadOnlySpan<byte> Payload(PageEntry entry) => _batch.Slice(entry.PayloadOffset, entry.Length);

    public Enumerator GetEnumerator() => new(_batch, PageCount);

    /// <summary>Walks the table once, keeping the running payload offset, so lookups cost nothing per page.</summary>
    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> _batch;
        private readonly int _count;
        private int _index;
        private int _payloadAt;

        internal Enumerator(ReadOnlySpan<byte> batch, int count)
        {
            _batch = batch;
            _count = count;
            _index = -1;
            _payloadAt = PageBatchFormat.PayloadOffset(count);
            Current = default;
        }

        public PageEntry Current { get; private set; }

        public bool MoveNext()
        {
            if (_index >= 0)
            {
                _payloadAt += Current.Length;
            }

            if (++_index >= _count)
            {
                return false;
            }

            var page = (int)BinaryPrimitives.ReadUInt32LittleEndian(_batch[(PageBatchFormat.HeaderSize + (_index * PageBatchFormat.PageNumberSize))..]);
            var descriptor = BinaryPrimitives.ReadUInt16LittleEndian(
                _batch[(PageBatchFormat.DescriptorsOffset(_count) + (_index * PageBatchFormat.DescriptorSize))..]);
            Current = new PageEntry(
                _index,
                page,
                (PageKind)(descriptor >> PageBatchFormat.KindShift),
                _payloadAt,
                descriptor & PageBatchFormat.LengthMask);
            return true;
        }
    }
}
