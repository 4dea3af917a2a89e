using System.Buffers.Binary;
using K4os.Compression.LZ4;
using Migration.Core.Memory;
using Migration.Core.Pages;

namespace Migration.Core.Tests.Pages;

/// <summary>
/// Targets are filled with 0xA5 first: no page a test batch holds is 0xA5 throughout, and ClearIfNonZero would clear
/// a Zero page, so any write of any batch page leaves a mark that the final check finds.
/// </summary>
public class PageBatchCorruptionTests
{
    private const byte Untouched = 0xA5;

    private static readonly PageDecodeOptions Clearing = new() { ZeroPages = ZeroPageWrite.ClearIfNonZero };

    [Fact]
    public void Every_single_bit_flip_of_a_small_batch_is_refused_before_memory_is_touched()
    {
        using var source = new GuestMemory(1UL << 20);
        TestPages.Text(source, 1, seed: 20);
        TestPages.LastByteOnly(source, 2);
        TestPages.Random(source, 255, seed: 21);
        var batch = Encode(source, [0, 1, 2, 255]);
        using var target = Untouched_target();

        var offsets = new HashSet<long>();
        for (var bit = 0; bit < batch.Length * 8; bit++)
        {
            batch[bit >> 3] ^= (byte)(1 << (bit & 7));
            var e = Assert.Throws<PageBatchException>(() => PageBatchDecoder.Decode(batch, target, Clearing));
            batch[bit >> 3] ^= (byte)(1 << (bit & 7));
            // A flipped length field makes the header describe a longer batch; the offset is then where the data ends.
            Assert.InRange(e.Offset, 0, batch.Length);
            Assert.DoesNotContain('\n', e.Message);
            Assert.Contains($"at byte {e.Offset}", e.Message, StringComparison.Ordinal);
            offsets.Add(e.Offset);
        }

        Assert.True(TestPages.AllBytesAre(target, Untouched));
        // Magic, version, flags, page count, payload length and checksum each report their own offset.
        Assert.Superset(new HashSet<long> { 0, 4, 5, 8, batch.Length - 8 }, offsets);
        PageBatchDecoder.Decode(batch, target, Clearing);
        Assert.True(source.GetPage(1).SequenceEqual(target.GetPage(1)));
    }

    [Fact]
    public void A_dense_sample_of_bit_flips_of_a_full_batch_is_refused()
    {
        using var source = TestPages.Mixed(256, seed: 22);
        var batch = Encode(source, Enumerable.Range(0, 256).ToArray());
        using var target = Untouched_target();

        // The header, the first 64 page numbers and descriptors, the checksum, and 2,000 bits spread over the rest.
        var bits = Enumerable.Range(0, (PageBatchFormat.HeaderSize + 256) * 8)
            .Concat(Enumerable.Range((PageBatchFormat.HeaderSize + 1024) * 8, 128 * 8))
            .Concat(Enumerable.Range((batch.Length - 8) * 8, 64))
            .Concat(Enumerable.Range(0, 2000).Select(i => (int)((((long)i * 32_771) + (i & 7)) % (batch.Length * 8L))));
        foreach (var bit in bits)
        {
            batch[bit >> 3] ^= (byte)(1 << (bit & 7));
            var e = Assert.Throws<PageBatchException>(() => PageBatchDecoder.Decode(batch, target, Clearing));
            batch[bit >> 3] ^= (byte)(1 << (bit & 7));
            Assert.InRange(e.Offset, 0, batch.Length);
        }

        Assert.True(TestPages.AllBytesAre(target, Untouched));
    }

    [Fact]
    public void Every_truncation_and_any_trailing_byte_is_refused()
    {
        using var source = new GuestMemory(1UL << 20);
        TestPages.Text(source, 3, seed: 23);
        var batch = Encode(source, [2, 3]);
        using var target = Untouched_target();

        for (var length = 0; length < batch.Length; length++)
        {
            var e = Assert.Throws<PageBatchException>(() => PageBatchDecoder.Decode(batch.AsSpan(0, length), target, Clearing));
            Assert.Equal(length, e.Offset);
            Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        }

        var longer = batch.Concat(new byte[] { 0 }).ToArray();
        var extra = Assert.Throws<PageBatchException>(() => PageBatchDecoder.Decode(longer, target, Clearing));
        Assert.Equal(batch.Length, extra.Offset);
        Assert.True(TestPages.AllBytesAre(target, Untouched));
    }

    public static TheoryData<string, byte[], long, string> Malformed()
    {
        var text = TextBlock(out var block);
        var shortBlock = new byte[256];
        var shortLength = LZ4Codec.Encode(text.AsSpan(0, 100), shortBlock, LZ4Level.L00_FAST);
        return new TheoryData<string, byte[], long, string>
        {
            { "page outside target", BatchBuilder.Build(BatchBuilder.Raw(256, 1)), 12, "page 256 (entry 0) is outside the target's 256 pages" },
            { "huge page number", BatchBuilder.Build(BatchBuilder.Zero(0), BatchBuilder.Zero(uint.MaxValue)), 16, "page 4294967295 (entry 1) is outside" },
            { "descending", BatchBuilder.Build(BatchBuilder.Zero(9), BatchBuilder.Zero(8)), 16, "page 8 (entry 1) follows page 9" },
            { "duplicate", BatchBuilder.Build(BatchBuilder.Zero(9), BatchBuilder.Raw(9, 1)), 16, "page 9 (entry 1) follows page 9" },
            { "lz4 length above a page", BatchBuilder.Build((0, 2, 5000, new byte[5000]), BatchBuilder.Zero(1)), 20, "page 0 (entry 0): length 5000 is invalid for a Lz4 page" },
            { "raw length not a page", BatchBuilder.Build((0, 1, 100, new byte[100])), 16, "length 100 is invalid for a Raw page" },
            { "zero page with payload", BatchBuilder.Build((0, 0, 8, new byte[8])), 16, "length 8 is invalid for a Zero page" },
            { "undefined kind", BatchBuilder.Build((0, 3, 0, [])), 16, "kind 3 is not defined" },
            { "lz4 block too short", BatchBuilder.Build(BatchBuilder.Lz4(4, shortBlock[..shortLength])), 18, "decodes to 100 bytes, not 4096" },
            { "lz4 garbage", BatchBuilder.Build(BatchBuilder.Zero(1), BatchBuilder.Lz4(4, [0xF0, 1, 2, 3])), 24, "LZ4 block of 4 bytes is corrupt" },
            { "lz4 block cut short", BatchBuilder.Build(BatchBuilder.Lz4(4, block[..^1])), 18, "LZ4 block of" },
            { "lengths disagree with payload", WithHeader(BatchBuilder.Build(BatchBuilder.Raw(1, 1), BatchBuilder.Lz4(2, block)), h => BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)(4096 + block.Length - 1)), trimPayloadBy: 1), 8, "page lengths add up to" },
            { "page count above bound", WithHeader(BatchBuilder.Build(BatchBuilder.Zero(1)), h => BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 2000)), 6, "page count 2000 is outside 1..1024" },
            { "page count zero", WithHeader(BatchBuilder.Build(BatchBuilder.Zero(1)), h => BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 0)), 6, "page count 0 is outside 1..1024" },
            { "payload above bound", WithHeader(BatchBuilder.Build(BatchBuilder.Raw(1, 1)), h => BinaryPrimitives.WriteUInt32LittleEndian(h[8..], 4097)), 8, "payload length 4097 exceeds 1 pages x 4096 bytes" },
            { "payload length huge", WithHeader(BatchBuilder.Build(BatchBuilder.Raw(1, 1)), h => BinaryPrimitives.WriteUInt32LittleEndian(h[8..], uint.MaxValue)), 8, "payload length 4294967295 exceeds" },
            { "wrong magic", WithHeader(BatchBuilder.Build(BatchBuilder.Zero(1)), h => h[0] = (byte)'X'), 0, "bad magic" },
            { "future version", WithHeader(BatchBuilder.Build(BatchBuilder.Zero(1)), h => h[4] = 2), 4, "layout version 2 is not supported" },
            { "unknown flags", WithHeader(BatchBuilder.Build(BatchBuilder.Zero(1)), h => h[5] = 1), 5, "flags 0x01 are not defined" },
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_batches_with_a_valid_checksum_are_refused_with_the_field_and_offset(string name, byte[] batch, long offset, string message)
    {
        using var target = Untouched_target();
        var e = Assert.Throws<PageBatchException>(() => PageBatchDecoder.Decode(batch, target, Clearing));
        Assert.True(e.Offset == offset, $"{name}: offset {e.Offset}, expected {offset}: {e.Message}");
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.True(TestPages.AllBytesAre(target, Untouched));
    }

    [Fact]
    public void A_batch_built_from_the_documented_layout_decodes()
    {
        TextBlock(out var block);
        var batch = BatchBuilder.Build(BatchBuilder.Zero(0), BatchBuilder.Raw(1, 7), BatchBuilder.Lz4(255, block));
        using var target = Untouched_target();
        var stats = PageBatchDecoder.Decode(batch, target, Clearing);
        Assert.Equal(new PageBatchStats(1, 3, 1, 1, 1, batch.Length), stats);
        Assert.False(target.GetPage(0).ContainsAnyExcept((byte)0));
        Assert.False(target.GetPage(1).ContainsAnyExcept((byte)7));
        Assert.False(target.GetPage(2).ContainsAnyExcept(Untouched));
    }

    [Fact]
    public void The_header_alone_bounds_what_a_reader_allocates()
    {
        var header = new byte[PageBatchFormat.HeaderSize];
        "MPGB"u8.CopyTo(header);
        header[4] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), 1024);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), 1024 * 4096);
        Assert.Equal(PageBatchFormat.MaxEncodedLength, PageBatchFormat.ReadEncodedLength(header));
        Assert.Equal(4_200_468, PageBatchFormat.MaxEncodedLength);
        var e = Assert.Throws<PageBatchException>(() => PageBatchFormat.ReadEncodedLength(header.AsSpan(0, 11)));
        Assert.Equal(11, e.Offset);
    }

    private static GuestMemory Untouched_target()
    {
        var target = new GuestMemory(1UL << 20);
        TestPages.Fill(target, Untouched);
        return target;
    }

    private static byte[] Encode(GuestMemory source, int[] pages)
    {
        using var batch = PageBatchEncoder.Encode(source, pages);
        return batch.ToArray();
    }

    private static byte[] TextBlock(out byte[] block)
    {
        using var memory = new GuestMemory(1UL << 20);
        TestPages.Text(memory, 0, seed: 24);
        var text = memory.GetPage(0).ToArray();
        var buffer = new byte[LZ4Codec.MaximumOutputSize(4096)];
        block = buffer[..LZ4Codec.Encode(text, buffer, LZ4Level.L00_FAST)];
        return text;
    }

    private static byte[] WithHeader(byte[] batch, Action<Span<byte>> edit, int trimPayloadBy = 0)
    {
        edit(batch);
        if (trimPayloadBy > 0)
        {
            // Drop bytes from the payload end so the total length still matches the edited header.
            batch = batch[..^(8 + trimPayloadBy)].Concat(new byte[8]).ToArray();
        }

        return BatchBuilder.Reseal(batch);
    }
}
