using System.Numerics;
using System.Runtime.InteropServices;

namespace Migration.Core.Memory;

/// <summary>
/// One bit per guest page, set after every store to the page.
/// </summary>
/// <remarks>
/// The single vCPU thread sets bits with a plain <c>|=</c> (a locked instruction on every store costs the
/// interpreter 30–50 %). The collector takes each word with an atomic exchange *before* it reads the pages,
/// and the writer stores its data *before* it sets the bit, so a page written during a copy is always
/// reported again by a later collection; a racing read-modify-write can at worst resurrect a bit, which
/// sends a page twice but never loses one. This is the order KVM's get-and-clear dirty log uses.
/// </remarks>
public sealed unsafe class DirtyLog : IDisposable
{
    private readonly ulong* _bits;
    private readonly ulong* _written;
    private long _epoch;
    private int _disposed;

    public DirtyLog(int pageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageCount);
        PageCount = pageCount;
        WordCount = (pageCount + 63) / 64;
        _bits = (ulong*)NativeMemory.AllocZeroed((nuint)WordCount, sizeof(ulong));
        _written = (ulong*)NativeMemory.AllocZeroed((nuint)WordCount, sizeof(ulong));
    }

    public int PageCount { get; }

    public int WordCount { get; }

    /// <summary>The bitmap itself, for the interpreter's hot loop, which marks pages without a call.</summary>
    public ulong* Bits => _bits;

    public void Mark(int page)
    {
        if ((uint)page >= (uint)PageCount)
        {
            throw new ArgumentOutOfRangeException(nameof(page), page, $"page index outside 0..{PageCount - 1}");
        }

        // A release store: on weakly ordered hosts the bit must not become visible before the data it covers.
        Volatile.Write(ref _bits[page >> 6], _bits[page >> 6] | (1UL << (page & 63)));
    }

    /// <summary>Marks every page touched by <paramref name="length"/> bytes at byte <paramref name="offset"/> of guest memory.</summary>
    public void MarkRange(ulong offset, ulong length)
    {
        if (length == 0)
        {
            return;
        }

        var first = (int)(offset >> GuestMemory.PageShift);
        var last = (int)((offset + length - 1) >> GuestMemory.PageShift);
        for (var page = first; page <= last; page++)
        {
            Mark(page);
        }
    }

    public bool IsDirty(int page) => (uint)page < (uint)PageCount && (_bits[page >> 6] & (1UL << (page & 63))) != 0;

    /// <summary>Marks every page dirty: the first pre-copy round treats all memory as written.</summary>
    public void MarkAll()
    {
        for (var i = 0; i < WordCount; i++)
        {
            _bits[i] = ulong.MaxValue;
        }

        TrimLastWord(_bits);
    }

    /// <summary>
    /// Counts collections. A consumer that relies on seeing every change since its own last collection (an incremental
    /// checkpoint) checks that nobody else collected in between.
    /// </summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    /// <summary>A page was filled by a restore rather than a store: not dirty, but no longer known to be zero.</summary>
    public void MarkRestored(int page)
    {
        if ((uint)page >= (uint)PageCount)
        {
            throw new ArgumentOutOfRangeException(nameof(page), page, $"page index outside 0..{PageCount - 1}");
        }

        // Decoders restore batches on several threads, and neighbouring pages share a word.
        Interlocked.Or(ref _written[page >> 6], 1UL << (page & 63));
    }

    /// <summary>Every page that may hold something other than zeros: ever dirtied or restored. Clears nothing.</summary>
    public DirtyPageSet WrittenPages()
    {
        var snapshot = new ulong[WordCount];
        var count = 0;
        for (var i = 0; i < WordCount; i++)
        {
            var word = Volatile.Read(ref _written[i]) | Volatile.Read(ref _bits[i]);
            snapshot[i] = word;
            count += BitOperations.PopCount(word);
        }

        return new DirtyPageSet(snapshot, PageCount, count);
    }

    /// <summary>Returns the pages written since the previous collection and clears them, each word atomically.</summary>
    public DirtyPageSet CollectAndClear()
    {
        Interlocked.Increment(ref _epoch);
        var snapshot = new ulong[WordCount];
        var count = 0;
        for (var i = 0; i < WordCount; i++)
        {
            // A plain read first keeps clean words (the common case) free of locked instructions.
            if (Volatile.Read(ref _bits[i]) == 0)
            {
                continue;
            }

            var word = Interlocked.Exchange(ref _bits[i], 0);
            snapshot[i] = word;
            Interlocked.Or(ref _written[i], word);
            count += BitOperations.PopCount(word);
        }

        return new DirtyPageSet(snapshot, PageCount, count);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            NativeMemory.Free(_bits);
            NativeMemory.Free(_written);
        }
    }

    private void TrimLastWord(ulong* bits)
    {
        var tail = PageCount & 63;
        if (tail != 0)
        {
            bits[WordCount - 1] &= (1UL << tail) - 1;
        }
    }
}
