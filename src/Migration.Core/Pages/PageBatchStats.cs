using Migration.Core.Memory;

namespace Migration.Core.Pages;

/// <summary>Page counts by kind and encoded size, for one batch or summed over many.</summary>
public readonly record struct PageBatchStats(int Batches, int Pages, int ZeroPages, int RawPages, int Lz4Pages, long EncodedBytes)
{
    public long InputBytes => (long)Pages * GuestMemory.PageSize;

    public PageBatchStats Add(PageBatchStats other) => new(
        Batches + other.Batches,
        Pages + other.Pages,
        ZeroPages + other.ZeroPages,
        RawPages + other.RawPages,
        Lz4Pages + other.Lz4Pages,
        EncodedBytes + other.EncodedBytes);

    public override string ToString() =>
        $"{Pages} pages in {Batches} batches: {ZeroPages} zero, {RawPages} raw, {Lz4Pages} lz4; {EncodedBytes} bytes encoded from {InputBytes}";
}
