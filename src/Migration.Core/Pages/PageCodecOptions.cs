namespace Migration.Core.Pages;

/// <summary>Encoder settings; every combination changes only speed and size, never what a decoder restores.</summary>
public sealed class PageCodecOptions
{
    private readonly int _pagesPerBatch = 256;
    private readonly int _maxLz4Length = 3 * PageBatchFormat.PageSize / 4;
    private readonly int _maxDegreeOfParallelism = Environment.ProcessorCount;

    public static PageCodecOptions Default { get; } = new();

    /// <summary>256 pages keep a batch's input at 1 MiB: large enough to amortise the checksum, small enough to pipeline.</summary>
    public int PagesPerBatch
    {
        get => _pagesPerBatch;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, PageBatchFormat.MaxPages);
            _pagesPerBatch = value;
        }
    }

    /// <summary>
    /// A page is stored LZ4-compressed only when the block fits in this many bytes; otherwise the decoder would spend
    /// more time decompressing than the saved bytes take to transfer. Default 3/4 of a page.
    /// </summary>
    public int MaxLz4Length
    {
        get => _maxLz4Length;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, PageBatchFormat.PageSize);
            _maxLz4Length = value;
        }
    }

    /// <summary>
    /// Off, every non-zero page is stored raw. K4os LZ4 compresses prose-like pages at only ~0.3 GB/s a core here,
    /// slower than loopback TCP (~1.45 GB/s) or a page-cache write, so a fast link or disk is better served raw.
    /// </summary>
    public bool Compress { get; init; } = true;

    /// <summary>
    /// Samples each page's byte variety first and stores high-entropy pages raw without trying LZ4 (see
    /// <see cref="CompressibilityProbe"/>); costs ~0.2 µs a page and saves ~1.5 µs on every incompressible one.
    /// </summary>
    public bool ProbeCompressibility { get; init; } = true;

    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _maxDegreeOfParallelism = value;
        }
    }
}
