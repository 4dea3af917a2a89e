using System.Buffers;
using Migration.Core.Memory;

namespace Migration.Core.Pages;

/// <summary>Up to one batch's worth of page numbers in a pooled array, checked ascending and in range.</summary>
internal sealed class PageChunk : IDisposable
{
    private int[]? _pages;

    private PageChunk(int[] pages, int count)
    {
        _pages = pages;
        Count = count;
    }

    public int Count { get; }

    public ReadOnlySpan<int> Pages => (_pages ?? throw new ObjectDisposedException(nameof(PageChunk))).AsSpan(0, Count);

    /// <summary>Lazily cuts the sequence into chunks, so a consumer can start on the first batch before the last page is read.</summary>
    public static IEnumerable<PageChunk> Split(GuestMemory memory, IEnumerable<int> pages, int pagesPerBatch)
    {
        var previous = -1;
        int[]? current = null;
        var count = 0;
        foreach (var page in pages)
        {
            PageBatchEncoder.CheckNextPage(memory, previous, page);
            previous = page;
            current ??= ArrayPool<int>.Shared.Rent(pagesPerBatch);
            current[count++] = page;
            if (count == pagesPerBatch)
            {
                yield return new PageChunk(current, count);
                current = null;
                count = 0;
            }
        }

        if (current is not null)
        {
            yield return new PageChunk(current, count);
        }
    }

    public void Dispose()
    {
        var pages = Interlocked.Exchange(ref _pages, null);
        if (pages is not null)
        {
            ArrayPool<int>.Shared.Return(pages);
        }
    }
}
