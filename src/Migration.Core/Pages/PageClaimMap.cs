using System.Buffers.Binary;

namespace Migration.Core.Pages;

/// <summary>
/// Pages already taken by a batch of one decode session. Batches decoded in parallel must not share a page, or the
/// result would depend on thread timing; a claim is checked before a batch writes anything.
/// </summary>
internal sealed class PageClaimMap
{
    private readonly long[] _words;

    public PageClaimMap(int pageCount) => _words = new long[(pageCount + 63) / 64];

    /// <summary>Claims the batch's pages, one atomic OR per 64-page word; throws naming the first page already claimed.</summary>
    public void Claim(ReadOnlySpan<byte> batch, int pageCount)
    {
        var i = 0;
        while (i < pageCount)
        {
            var word = Page(batch, i) >> 6;
            long mask = 0;
            var first = i;
            while (i < pageCount && Page(batch, i) >> 6 == word)
            {
                mask |= 1L << (Page(batch, i) & 63);
                i++;
            }

            var before = Interlocked.Or(ref _words[word], mask);
            if ((before & mask) != 0)
            {
                for (var j = first; j < i; j++)
                {
                    var page = Page(batch, j);
                    if ((before & (1L << (page & 63))) != 0)
                    {
                        throw new PageBatchException(
                            $"page {page} (entry {j}) is also in another batch of this decode; parallel batches must not overlap",
                            PageBatchFormat.HeaderSize + (j * PageBatchFormat.PageNumberSize));
                    }
                }
            }
        }
    }

    private static int Page(ReadOnlySpan<byte> batch, int index) =>
        (int)BinaryPrimitives.ReadUInt32LittleEndian(batch[(PageBatchFormat.HeaderSize + (index * PageBatchFormat.PageNumberSize))..]);
}
