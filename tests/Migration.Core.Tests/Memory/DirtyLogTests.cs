using Migration.Core.Memory;

namespace Migration.Core.Tests.Memory;

public class DirtyLogTests
{
    [Fact]
    public void Collect_returns_marked_pages_and_clears_them()
    {
        using var log = new DirtyLog(1000);
        log.Mark(0);
        log.Mark(63);
        log.Mark(64);
        log.Mark(999);

        var first = log.CollectAndClear();
        Assert.Equal([0, 63, 64, 999], first.ToArray());
        Assert.Equal(4, first.Count);
        Assert.True(first.Contains(64));
        Assert.False(first.Contains(65));

        Assert.Empty(log.CollectAndClear());
    }

    [Fact]
    public void MarkAll_marks_exactly_the_existing_pages()
    {
        using var log = new DirtyLog(130);
        log.MarkAll();
        var all = log.CollectAndClear();
        Assert.Equal(130, all.Count);
        Assert.Equal(Enumerable.Range(0, 130), all);
    }

    [Fact]
    public void MarkRange_marks_every_page_the_bytes_touch()
    {
        using var log = new DirtyLog(16);
        log.MarkRange(4095, 2);
        log.MarkRange(5 * 4096, 4096);
        log.MarkRange(9 * 4096, 0);
        Assert.Equal([0, 1, 5], log.CollectAndClear().ToArray());
    }

    [Fact]
    public void Mark_outside_the_log_is_refused()
    {
        using var log = new DirtyLog(10);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => log.Mark(10));
        Assert.Contains("0..9", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The pre-copy invariant: a writer stores into pages (data first, then the dirty bit, as the vCPU does)
    /// while a collector repeatedly collects and copies the reported pages into a shadow. After the writer
    /// stops, one last collection must bring the shadow to exactly the memory's content — a page written
    /// after some collection and never reported again would leave the shadow stale.
    /// </summary>
    [Fact]
    public unsafe void Concurrent_writer_never_loses_a_dirty_page()
    {
        const int pages = 2048;
        using var memory = new GuestMemory(pages * (ulong)GuestMemory.PageSize);
        var shadow = new byte[memory.Size];
        var log = memory.DirtyLog;
        log.CollectAndClear();

        var writerDone = 0;
        var collections = 0;
        var writer = new Thread(() =>
        {
            var random = new Random(7);
            var basePointer = memory.HostBase;
            // The writer keeps storing until the collector has run many times beside it (a thread that starts
            // late must not leave the collector nothing to race with); the store count bounds it either way.
            for (ulong sequence = 1; sequence <= 200_000_000 && (sequence <= 3_000_000 || Volatile.Read(ref collections) < 50); sequence++)
            {
                var page = random.Next(pages);
                var slot = random.Next(GuestMemory.PageSize / 8);
                ((ulong*)(basePointer + ((long)page * GuestMemory.PageSize)))[slot] = sequence;
                log.Bits[page >> 6] |= 1UL << page;
            }

            Volatile.Write(ref writerDone, 1);
        });

        writer.Start();
        while (Volatile.Read(ref writerDone) == 0)
        {
            CopyDirty(memory, shadow);
            Interlocked.Increment(ref collections);
        }

        writer.Join();
        CopyDirty(memory, shadow);

        Assert.True(collections > 1, "the collector must have run while the writer was storing");
        var live = new ReadOnlySpan<byte>(memory.HostBase, (int)memory.Size);
        var firstDifference = live.CommonPrefixLength(shadow);
        Assert.True(firstDifference == shadow.Length, $"shadow differs from memory at byte {firstDifference} (page {firstDifference / GuestMemory.PageSize})");
    }

    private static void CopyDirty(GuestMemory memory, byte[] shadow)
    {
        foreach (var page in memory.DirtyLog.CollectAndClear())
        {
            memory.GetPage(page).CopyTo(shadow.AsSpan(page * GuestMemory.PageSize, GuestMemory.PageSize));
        }
    }
}
