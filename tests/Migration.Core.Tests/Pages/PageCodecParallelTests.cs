using Migration.Core.Memory;
using Migration.Core.Pages;

namespace Migration.Core.Tests.Pages;

public class PageCodecParallelTests
{
    [Fact]
    public async Task Parallel_encode_is_byte_identical_to_sequential_encode()
    {
        using var memory = TestPages.Mixed(512, seed: 30);
        var pages = Enumerable.Range(0, 512).Where(p => p % 5 != 1).ToArray();

        var sequential = EncodeToArrays(memory, pages, new PageCodecOptions { PagesPerBatch = 32, MaxDegreeOfParallelism = 1 });
        var parallel = EncodeToArrays(memory, pages, new PageCodecOptions { PagesPerBatch = 32, MaxDegreeOfParallelism = 4 });
        var asynchronous = new List<byte[]>();
        await foreach (var batch in PageCodec.EncodeAsync(memory, pages, new PageCodecOptions { PagesPerBatch = 32, MaxDegreeOfParallelism = 3 }))
        {
            using (batch)
            {
                asynchronous.Add(batch.ToArray());
            }
        }

        var direct = pages.Chunk(32).Select(chunk =>
        {
            using var batch = PageBatchEncoder.Encode(memory, chunk, new PageCodecOptions());
            return batch.ToArray();
        }).ToList();

        Assert.Equal(13, sequential.Count);
        Assert.Equal(sequential, parallel);
        Assert.Equal(sequential, asynchronous);
        Assert.Equal(sequential, direct);
    }

    [Fact]
    public void Parallel_decode_restores_what_sequential_decode_restores()
    {
        using var memory = TestPages.Mixed(1024, seed: 31);
        var batches = EncodeToArrays(memory, PageCodec.AllPages(memory), new PageCodecOptions { PagesPerBatch = 32 });
        using var one = new GuestMemory(memory.Size);
        using var many = new GuestMemory(memory.Size);

        var s1 = PageCodec.Decode(batches.Select(b => (ReadOnlyMemory<byte>)b), one, new PageDecodeOptions { MaxDegreeOfParallelism = 1 });
        var s4 = PageCodec.Decode(batches.Select(b => (ReadOnlyMemory<byte>)b), many, new PageDecodeOptions { MaxDegreeOfParallelism = 4 });

        Assert.Equal(s1, s4);
        Assert.Equal(32, s4.Batches);
        Assert.Equal(1024, s4.Pages);
        Assert.True(TestPages.SameContents(memory, one));
        Assert.True(TestPages.SameContents(memory, many));
    }

    [Fact]
    public async Task The_streaming_decoder_restores_batches_as_they_are_added()
    {
        using var memory = TestPages.Mixed(1024, seed: 32);
        using var target = new GuestMemory(memory.Size);
        var decoder = new ParallelPageDecoder(target);
        await using (decoder)
        {
            foreach (var batch in PageCodec.Encode(memory, PageCodec.AllPages(memory)))
            {
                await decoder.AddAsync(batch);
            }

            var stats = await decoder.CompleteAsync();
            Assert.Equal(4, stats.Batches);
        }

        Assert.True(TestPages.SameContents(memory, target));
    }

    [Fact]
    public async Task The_streaming_decoder_reports_a_bad_batch_and_refuses_more()
    {
        using var memory = TestPages.Mixed(512, seed: 33);
        var batches = EncodeToArrays(memory, PageCodec.AllPages(memory), new PageCodecOptions { PagesPerBatch = 64 });
        batches[3][100] ^= 1;
        using var target = new GuestMemory(memory.Size);
        var decoder = new ParallelPageDecoder(target, new PageDecodeOptions { MaxDegreeOfParallelism = 2 });
        await using (decoder)
        {
            int released = 0, added = 0;
            PageBatchException? early = null;
            foreach (var batch in batches)
            {
                try
                {
                    added++;
                    await decoder.AddAsync(batch, new Release(() => Interlocked.Increment(ref released)));
                }
                catch (PageBatchException e)
                {
                    early = e;
                    break;
                }
            }

            var e2 = await Assert.ThrowsAsync<PageBatchException>(decoder.CompleteAsync);
            Assert.Contains("checksum mismatch", e2.Message, StringComparison.Ordinal);
            Assert.Equal(early?.Message ?? e2.Message, e2.Message);
            Assert.True(decoder.Failed);
            Assert.Equal(added, released);
        }

        // The corrupt batch held pages 192..255, which hold data in the source; none of it reached the target.
        Assert.Contains(Enumerable.Range(192, 64), p => memory.GetPage(p).ContainsAnyExcept((byte)0));
        Assert.DoesNotContain(Enumerable.Range(192, 64), p => target.GetPage(p).ContainsAnyExcept((byte)0));
    }

    [Fact]
    public void Overlapping_batches_are_refused_before_the_second_writes()
    {
        using var memory = TestPages.Mixed(256, seed: 34);
        var first = EncodeToArrays(memory, [5, 6, 7], new PageCodecOptions());
        var second = EncodeToArrays(memory, [2, 6], new PageCodecOptions());
        using var target = new GuestMemory(memory.Size);
        var e = Assert.Throws<PageBatchException>(() =>
            PageCodec.Decode(first.Concat(second).Select(b => (ReadOnlyMemory<byte>)b), target, new PageDecodeOptions { MaxDegreeOfParallelism = 1 }));
        Assert.Contains("page 6 (entry 1) is also in another batch", e.Message, StringComparison.Ordinal);
        Assert.Equal(16, e.Offset);
        Assert.True(memory.GetPage(2).ContainsAnyExcept((byte)0));
        Assert.False(target.GetPage(2).ContainsAnyExcept((byte)0));
    }

    [Fact]
    public void Page_sequences_must_be_ascending_and_inside_memory()
    {
        using var memory = new GuestMemory(1UL << 20);
        var descending = Assert.Throws<ArgumentException>(() => PageCodec.Encode(memory, [3, 2]).ToList());
        Assert.Contains("page 2 follows page 3", descending.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => PageCodec.Encode(memory, [0, 256]).ToList());
        Assert.Throws<ArgumentOutOfRangeException>(() => PageBatchEncoder.Encode(memory, new int[1025]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PageBatchEncoder.Encode(memory, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PageCodecOptions { PagesPerBatch = 1025 });
        Assert.Empty(PageCodec.Encode(memory, []));
    }

    [Fact]
    public void Stopping_early_waits_for_batches_in_flight()
    {
        var memory = TestPages.Mixed(2048, seed: 35);
        var firstTwo = new List<byte[]>();
        foreach (var batch in PageCodec.Encode(memory, PageCodec.AllPages(memory), new PageCodecOptions { PagesPerBatch = 16, MaxDegreeOfParallelism = 4 }))
        {
            using (batch)
            {
                firstTwo.Add(batch.ToArray());
            }

            if (firstTwo.Count == 2)
            {
                break;
            }
        }

        // Unmapping now would crash the process if an encoder were still reading.
        memory.Dispose();
        Assert.Equal(2, firstTwo.Count);
    }

    private static List<byte[]> EncodeToArrays(GuestMemory memory, IEnumerable<int> pages, PageCodecOptions options)
    {
        var arrays = new List<byte[]>();
        foreach (var batch in PageCodec.Encode(memory, pages, options))
        {
            using (batch)
            {
                arrays.Add(batch.ToArray());
            }
        }

        return arrays;
    }

    private sealed class Release(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
