using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using K4os.Compression.LZ4;
using Migration.Core.Memory;

namespace Migration.Core.Pages;

/// <summary>Encodes up to <see cref="PageBatchFormat.MaxPages"/> pages of guest memory into one batch, on the calling thread.</summary>
/// <remarks>
/// Pages are read straight from guest memory, which may be changing under a running vCPU: each page is read into the
/// batch exactly once (copied, or compressed by a single LZ4 pass), and the checksum is taken over the batch, so the
/// batch is always self-consistent. A page changed while it was read is dirty again and a later round resends it.
/// </remarks>
public static unsafe class PageBatchEncoder
{
    public static PageBatch Encode(GuestMemory memory, ReadOnlySpan<int> pages, PageCodecOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (pages.IsEmpty || pages.Length > PageBatchFormat.MaxPages)
        {
            throw new ArgumentOutOfRangeException(nameof(pages), pages.Length, $"a batch holds 1..{PageBatchFormat.MaxPages} pages");
        }

        var previous = -1;
        foreach (var page in pages)
        {
            CheckNextPage(memory, previous, page);
            previous = page;
        }

        return EncodeChecked(memory, pages, options ?? PageCodecOptions.Default);
    }

    internal static void CheckNextPage(GuestMemory memory, int previous, int page)
    {
        if ((uint)page >= (uint)memory.PageCount)
        {
            throw new ArgumentOutOfRangeException(nameof(page), page, $"page index outside 0..{memory.PageCount - 1}");
        }

        if (page <= previous)
        {
            throw new ArgumentException($"page {page} follows page {previous}: pages must be strictly ascending", nameof(page));
        }
    }

    /// <summary>For callers that have already checked count, order and range.</summary>
    internal static PageBatch EncodeChecked(GuestMemory memory, ReadOnlySpan<int> pages, PageCodecOptions options)
    {
        var count = pages.Length;
        var capacity = PageBatchFormat.EncodedLength(count, count * PageBatchFormat.PageSize);
        var buffer = ArrayPool<byte>.Shared.Rent(capacity);
        try
        {
            var output = buffer.AsSpan();
            var descriptorsAt = PageBatchFormat.DescriptorsOffset(count);
            var cursor = PageBatchFormat.PayloadOffset(count);
            var host = memory.HostBase;
            var maxLz4 = options.MaxLz4Length;
            var compress = options.Compress;
            var probe = options.ProbeCompressibility;
            int zero = 0, raw = 0, lz4 = 0;
            fixed (byte* target = buffer)
            {
                for (var i = 0; i < count; i++)
                {
                    var page = pages[i];
                    BinaryPrimitives.WriteUInt32LittleEndian(output[(PageBatchFormat.HeaderSize + (i * PageBatchFormat.PageNumberSize))..], (uint)page);
                    var source = host + ((long)page << GuestMemory.PageShift);
                    PageKind kind;
                    int length;
                    if (ZeroPage.IsZero(source))
                    {
                        kind = PageKind.Zero;
                        length = 0;
                        zero++;
                    }
                    else
                    {
                        // Encode returns -1 when the block does not fit in maxLz4 bytes: random data costs one
                        // accelerating LZ4 pass, unless the probe already ruled the page out.
                        length = !compress || (probe && CompressibilityProbe.LooksIncompressible(source))
                            ? -1
                            : LZ4Codec.Encode(source, PageBatchFormat.PageSize, target + cursor, maxLz4, LZ4Level.L00_FAST);
                        if (length > 0)
                        {
                            kind = PageKind.Lz4;
                            lz4++;
                        }
                        else
                        {
                            Buffer.MemoryCopy(source, target + cursor, PageBatchFormat.PageSize, PageBatchFormat.PageSize);
                            kind = PageKind.Raw;
                            length = PageBatchFormat.PageSize;
                            raw++;
                        }
                    }

                    BinaryPrimitives.WriteUInt16LittleEndian(output[(descriptorsAt + (i * PageBatchFormat.DescriptorSize))..], PageBatchFormat.Descriptor(kind, length));
                    cursor += length;
                }
            }

            var payloadLength = cursor - PageBatchFormat.PayloadOffset(count);
            BinaryPrimitives.WriteUInt32LittleEndian(output, PageBatchFormat.Magic);
            output[4] = PageBatchFormat.Version;
            output[5] = 0;
            BinaryPrimitives.WriteUInt16LittleEndian(output[6..], (ushort)count);
            BinaryPrimitives.WriteUInt32LittleEndian(output[8..], (uint)payloadLength);
            BinaryPrimitives.WriteUInt64LittleEndian(output[cursor..], XxHash3.HashToUInt64(output[..cursor]));
            var encodedLength = cursor + PageBatchFormat.ChecksumSize;
            return new PageBatch(buffer, encodedLength, new PageBatchStats(1, count, zero, raw, lz4, encodedLength));
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
