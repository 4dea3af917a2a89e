using System.Buffers.Binary;
using Migration.Core.Memory;

namespace Migration.Core.Pages;

/// <summary>
/// The byte layout of one encoded page batch, version 1. All integers are little-endian.
/// </summary>
/// <remarks>
/// <code>
/// offset            size   field
/// 0                 4      magic "MPGB" (4D 50 47 42)
/// 4                 1      layout version, 1
/// 5                 1      flags, 0 (reserved; any other value is refused)
/// 6                 2      N: page count, 1..1024
/// 8                 4      P: payload length, 0..N*4096
/// 12                4*N    page numbers (u32), strictly ascending
/// 12+4N             2*N    descriptors (u16): bits 0-12 stored length, bits 13-15 kind
///                            kind 0 Zero: length 0; 1 Raw: length 4096; 2 Lz4: length 1..4096
/// 12+6N             P      payloads of the Raw and Lz4 pages, in table order, back to back
/// 12+6N+P           8      XXH3-64 (seed 0) of bytes [0, 12+6N+P)
/// </code>
/// Total length is 20 + 6N + P, at most 4,200,468 bytes. The first 12 bytes alone fix the length, so a reader can
/// bound its allocation before it reads the rest. The page size is 4096 by definition of version 1.
/// </remarks>
public static class PageBatchFormat
{
    /// <summary>"MPGB" read as a little-endian u32.</summary>
    public const uint Magic = 0x4247_504D;

    public const byte Version = 1;

    public const int HeaderSize = 12;

    public const int ChecksumSize = 8;

    public const int PageNumberSize = 4;

    public const int DescriptorSize = 2;

    public const int MaxPages = 1024;

    public const int PageSize = GuestMemory.PageSize;

    public const int MaxEncodedLength = HeaderSize + (MaxPages * (PageNumberSize + DescriptorSize)) + (MaxPages * PageSize) + ChecksumSize;

    public const int MinEncodedLength = HeaderSize + PageNumberSize + DescriptorSize + ChecksumSize;

    internal const int LengthMask = 0x1FFF;

    internal const int KindShift = 13;

    public static int EncodedLength(int pageCount, int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageCount, MaxPages);
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payloadLength, pageCount * PageSize);
        return HeaderSize + (pageCount * (PageNumberSize + DescriptorSize)) + payloadLength + ChecksumSize;
    }

    internal static int DescriptorsOffset(int pageCount) => HeaderSize + (pageCount * PageNumberSize);

    internal static int PayloadOffset(int pageCount) => HeaderSize + (pageCount * (PageNumberSize + DescriptorSize));

    internal static ushort Descriptor(PageKind kind, int length) => (ushort)(((int)kind << KindShift) | length);

    /// <summary>
    /// Validates the fixed header and returns the batch's whole encoded length; lets a stream reader size its buffer
    /// from the first <see cref="HeaderSize"/> bytes without trusting anything unbounded.
    /// </summary>
    public static int ReadEncodedLength(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderSize)
        {
            throw new PageBatchException($"truncated: {header.Length} bytes, shorter than the {HeaderSize}-byte header", header.Length);
        }

        var magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (magic != Magic)
        {
            throw new PageBatchException($"bad magic 0x{magic:x8}, expected 0x{Magic:x8} (\"MPGB\")", 0);
        }

        if (header[4] != Version)
        {
            throw new PageBatchException($"layout version {header[4]} is not supported (this reader knows {Version})", 4);
        }

        if (header[5] != 0)
        {
            throw new PageBatchException($"flags 0x{header[5]:x2} are not defined (must be 0)", 5);
        }

        int pageCount = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
        if (pageCount is 0 or > MaxPages)
        {
            throw new PageBatchException($"page count {pageCount} is outside 1..{MaxPages}", 6);
        }

        var payload = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (payload > (uint)(pageCount * PageSize))
        {
            throw new PageBatchException($"payload length {payload} exceeds {pageCount} pages x {PageSize} bytes", 8);
        }

        return EncodedLength(pageCount, (int)payload);
    }
}
