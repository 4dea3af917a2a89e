using System.Buffers;
using System.Diagnostics;
using K4os.Compression.LZ4;
using Migration.Core.Memory;

namespace Migration.Core.Pages;

/// <summary>
/// Decodes one batch into guest memory on the calling thread. All-or-nothing: the batch is checked in full, and its
/// LZ4 pages decoded to scratch, before the first byte of guest memory is written.
/// </summary>
/// <remarks>
/// Pages are written through <see cref="GuestMemory.HostBase"/> without marking the dirty log: a restored page holds
/// what the source (or the parent checkpoint) already has, so it is not a change to send again. It is recorded as
/// restored, so that a later full checkpoint of the restored machine includes it.
/// </remarks>
public static unsafe class PageBatchDecoder
{
    public static PageBatchStats Decode(ReadOnlySpan<byte> batch, GuestMemory target, PageDecodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        return Decode(batch, target, options ?? PageDecodeOptions.Default, claims: null);
    }

    internal static PageBatchStats Decode(ReadOnlySpan<byte> batch, GuestMemory target, PageDecodeOptions options, PageClaimMap? claims)
    {
        var view = PageBatchView.Parse(batch, target.PageCount);
        var lz4Pages = view.Stats.Lz4Pages;
        var scratch = lz4Pages > 0 ? ArrayPool<byte>.Shared.Rent(lz4Pages * PageBatchFormat.PageSize) : null;
        try
        {
            if (scratch is not null)
            {
                DecompressAll(view, scratch);
            }

            claims?.Claim(batch, view.PageCount);
            Commit(view, target, options.ZeroPages, scratch);
            return view.Stats;
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
    }

    private static void DecompressAll(PageBatchView view, byte[] scratch)
    {
        var slot = 0;
        foreach (var entry in view)
        {
            if (entry.Kind != PageKind.Lz4)
            {
                continue;
            }

            var decoded = LZ4Codec.Decode(view.Payload(entry), scratch.AsSpan(slot * PageBatchFormat.PageSize, PageBatchFormat.PageSize));
            if (decoded != PageBatchFormat.PageSize)
            {
                var problem = decoded < 0
                    ? $"page {entry.PageNumber} (entry {entry.Index}): LZ4 block of {entry.Length} bytes is corrupt or decodes to more than {PageBatchFormat.PageSize} bytes"
                    : $"page {entry.PageNumber} (entry {entry.Index}): LZ4 block of {entry.Length} bytes decodes to {decoded} bytes, not {PageBatchFormat.PageSize}";
                throw new PageBatchException(problem, entry.PayloadOffset);
            }

            slot++;
        }
    }

    private static void Commit(PageBatchView view, GuestMemory target, ZeroPageWrite zeroPages, byte[]? scratch)
    {
        var host = target.HostBase;
        var log = target.DirtyLog;
        var slot = 0;
        foreach (var entry in view)
        {
            var destination = new Span<byte>(host + ((long)entry.PageNumber << GuestMemory.PageShift), PageBatchFormat.PageSize);
            switch (entry.Kind)
            {
                case PageKind.Zero:
                    // Reading first leaves an already-zero page unwritten: no write fault, no host page committed for it.
                    if (zeroPages == ZeroPageWrite.ClearIfNonZero && !ZeroPage.IsZero(destination))
                    {
                        destination.Clear();
                    }

                    break;
                case PageKind.Raw:
                    view.Payload(entry).CopyTo(destination);
                    log.MarkRestored(entry.PageNumber);
                    break;
                case PageKind.Lz4:
                    scratch.AsSpan(slot++ * PageBatchFormat.PageSize, PageBatchFormat.PageSize).CopyTo(destination);
                    log.MarkRestored(entry.PageNumber);
                    break;
                default:
                    throw new UnreachableException($"kind {entry.Kind} passed validation");
            }
        }
    }
}
