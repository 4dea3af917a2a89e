using K4os.Compression.LZ4;
using Migration.Cli.Bench;
using Migration.Core.Memory;

namespace Migration.Machine.Tests.Cli;

public class BenchPiecesTests
{
    private const int PageSize = GuestMemory.PageSize;
    private const ulong Region = 4UL << 20;

    [Fact]
    public void Random_pages_are_dirty_and_do_not_shrink_under_lz4()
    {
        using var memory = new GuestMemory(8UL << 20);
        MemoryContents.Fill(memory, memory.Base, Region, ContentPattern.Random, seed: 1);

        var target = new byte[LZ4Codec.MaximumOutputSize(PageSize)];
        for (var page = 0; page < (int)(Region / PageSize); page++)
        {
            Assert.True(memory.DirtyLog.IsDirty(page), $"page {page} is not marked dirty");
            var encoded = LZ4Codec.Encode(memory.GetPage(page), target, LZ4Level.L00_FAST);
            Assert.True(encoded >= PageSize, $"page {page} compressed to {encoded} bytes");
        }

        Assert.False(memory.DirtyLog.IsDirty((int)(Region / PageSize)), "a page past the region was marked");
        Assert.True(memory.IsZeroPage((int)(Region / PageSize)));
    }

    [Fact]
    public void Text_pages_are_prose_that_lz4_shrinks_at_least_one_and_a_half_times()
    {
        using var memory = new GuestMemory(8UL << 20);
        MemoryContents.Fill(memory, memory.Base, Region, ContentPattern.Text, seed: 1);

        var target = new byte[LZ4Codec.MaximumOutputSize(PageSize)];
        long encodedTotal = 0;
        var pages = (int)(Region / PageSize);
        for (var page = 0; page < pages; page++)
        {
            var bytes = memory.GetPage(page);
            Assert.True(memory.DirtyLog.IsDirty(page), $"page {page} is not marked dirty");
            Assert.False(bytes.ContainsAnyExcept(TextAlphabet), $"page {page} holds bytes that are not text");
            var encoded = LZ4Codec.Encode(bytes, target, LZ4Level.L00_FAST);
            Assert.True(encoded > 0 && encoded * 3 <= PageSize * 2, $"page {page} compressed only to {encoded} bytes");
            encodedTotal += encoded;
        }

        Assert.InRange((double)Region / encodedTotal, 1.5, 4.0);
        Assert.False(memory.GetPage(0).SequenceEqual(memory.GetPage(1)), "neighbouring pages are identical");
        Assert.Contains((byte)'\n', memory.GetPage(0).ToArray());
    }

    [Fact]
    public void Zero_writes_nothing_so_fresh_pages_stay_zero_and_clean()
    {
        using var memory = new GuestMemory(8UL << 20);
        MemoryContents.Fill(memory, memory.Base, memory.Size, ContentPattern.Zero, seed: 1);

        for (var page = 0; page < memory.PageCount; page++)
        {
            Assert.True(memory.IsZeroPage(page));
            Assert.False(memory.DirtyLog.IsDirty(page));
        }
    }

    [Theory]
    [InlineData(nameof(ContentPattern.Random))]
    [InlineData(nameof(ContentPattern.Text))]
    public void The_same_seed_gives_the_same_bytes_and_another_seed_other_bytes(string name)
    {
        // By name: the pattern enum is internal to the tool, and theory parameters must be public types.
        var pattern = Enum.Parse<ContentPattern>(name);
        var first = Filled(pattern, seed: 7);
        var again = Filled(pattern, seed: 7);
        var other = Filled(pattern, seed: 8);

        Assert.True(first.AsSpan().SequenceEqual(again), "one seed gave two different fills");
        Assert.False(first.AsSpan().SequenceEqual(other), "two seeds gave the same fill");
        for (var page = 0; page < first.Length / PageSize; page++)
        {
            Assert.False(first.AsSpan(page * PageSize, PageSize).SequenceEqual(other.AsSpan(page * PageSize, PageSize)),
                $"page {page} is the same under both seeds");
        }
    }

    [Theory]
    [InlineData(nameof(ContentPattern.Random))]
    [InlineData(nameof(ContentPattern.Text))]
    public void An_unaligned_range_is_filled_exactly(string name)
    {
        var pattern = Enum.Parse<ContentPattern>(name);
        using var memory = new GuestMemory(4UL << 20);
        const ulong start = 3 * PageSize + 100;
        const ulong length = (2UL << 20) + 12_345;
        MemoryContents.Fill(memory, memory.Base + start, length, pattern, seed: 3);

        var all = new byte[memory.Size];
        memory.Read(memory.Base, all);
        Assert.False(all.AsSpan(0, (int)start).ContainsAnyExcept((byte)0), "bytes before the range were written");
        Assert.False(all.AsSpan((int)(start + length)).ContainsAnyExcept((byte)0), "bytes after the range were written");
        Assert.True(all[start] != 0 || all[start + 1] != 0, "the range starts unwritten");
        Assert.True(all[start + length - 1] != 0 || all[start + length - 2] != 0, "the range ends unwritten");
    }

    [Fact]
    public void A_range_outside_guest_memory_is_refused()
    {
        using var memory = new GuestMemory(1UL << 20);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            MemoryContents.Fill(memory, memory.Base + PageSize, memory.Size, ContentPattern.Random, seed: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            MemoryContents.Fill(memory, memory.Base - PageSize, PageSize, ContentPattern.Zero, seed: 1));
    }

    [Fact]
    public void Physical_limits_of_16_MiB_are_positive_and_leave_no_files_behind()
    {
        var directory = Directory.CreateTempSubdirectory("migration-bench-test-").FullName;
        try
        {
            var result = PhysicalLimits.Measure(16L << 20, directory, repetitions: 2);

            Assert.Equal(16L << 20, result.Bytes);
            Assert.Equal(2, result.Repetitions);
            foreach (var (name, figure) in new[]
            {
                ("write+fsync", result.WriteFsync),
                ("cp+fsync", result.CopyFsync),
                ("cached read", result.ReadCached),
                ("memcpy", result.Memcpy),
            })
            {
                Assert.True(figure.Seconds > 0 && double.IsFinite(figure.Seconds), $"{name}: {figure.Seconds} s");
                Assert.True(figure.GigabytesPerSecond > 0 && double.IsFinite(figure.GigabytesPerSecond), $"{name}: {figure.GigabytesPerSecond} GB/s");
                Assert.Equal((16L << 20) / figure.Seconds / 1e9, figure.GigabytesPerSecond, 6);
            }

            Assert.Empty(Directory.EnumerateFileSystemEntries(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Physical_limits_refuse_a_missing_directory()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"migration-missing-{Guid.NewGuid():N}");
        Assert.Throws<DirectoryNotFoundException>(() => PhysicalLimits.Measure(1 << 20, missing));
    }

    private static readonly System.Buffers.SearchValues<byte> TextAlphabet =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ' \n"u8);

    private static byte[] Filled(ContentPattern pattern, int seed)
    {
        using var memory = new GuestMemory(1UL << 20);
        MemoryContents.Fill(memory, memory.Base, memory.Size, pattern, seed);
        var bytes = new byte[memory.Size];
        memory.Read(memory.Base, bytes);
        return bytes;
    }
}
