using System.Buffers.Binary;
using System.IO.Hashing;
using Migration.Core.State;
using Migration.Core.Streams;

namespace Migration.Core.Tests.Streams;

public class MigrationStreamTests
{
    [Fact]
    public void Frames_come_back_in_order_with_their_sections()
    {
        var frames = StreamBuilder.ReadAll(StreamBuilder.Build(pages: 8));

        Assert.Equal("header test-kind v1", frames[0]);
        Assert.Equal("section alpha v1", frames[1]);
        Assert.Equal(["Pages", "Pages"], frames.Skip(2).Take(2).Select(f => f.Split(' ')[0]));
        Assert.Equal("RoundEnd 4", frames[4]);
        Assert.Equal("section beta-2 v7", frames[5]);
        Assert.Equal(6, frames.Count);
    }

    [Fact]
    public async Task Section_body_and_summary_survive_the_round_trip()
    {
        var bytes = StreamBuilder.Build();
        var reader = new MigrationStreamReader(new MemoryStream(bytes), requireEndOfInput: true);
        await reader.ReadHeaderAsync();
        StateSection? beta = null;
        while (await reader.ReadFrameAsync() is { } frame)
        {
            using (frame)
            {
                if (frame.Type == FrameType.Section && frame.ToSection().Name == "beta-2")
                {
                    beta = frame.ToSection();
                }
            }
        }

        Assert.Equal("body of beta"u8.ToArray(), beta!.Body);
        Assert.Equal(5, reader.Summary!.Value.Frames);
        Assert.Equal(bytes.Length - StreamFormat.FrameHeaderSize - StreamFormat.EndLength - StreamFormat.ChecksumSize, reader.Summary.Value.Bytes);
        Assert.Equal(reader.Offset, bytes.Length);
    }

    [Fact]
    public void Same_contents_give_the_same_digest_and_different_contents_another()
    {
        Assert.Equal(Digest(StreamBuilder.Build(pages: 8)), Digest(StreamBuilder.Build(pages: 8)));
        Assert.NotEqual(Digest(StreamBuilder.Build(pages: 8)), Digest(StreamBuilder.Build(pages: 9)));
    }

    [Fact]
    public void Every_truncation_is_refused_with_the_offset_where_the_input_ends()
    {
        var bytes = StreamBuilder.Build(pages: 5);
        for (var length = 0; length < bytes.Length; length++)
        {
            var e = Assert.Throws<MigrationStreamException>(() => StreamBuilder.ReadAll(bytes[..length]));
            Assert.True(
                e.Problem.StartsWith("truncated", StringComparison.Ordinal) || e.Problem.Contains("cut short", StringComparison.Ordinal),
                $"length {length}: {e.Message}");
            Assert.Equal(length, e.Offset);
        }
    }

    [Fact]
    public void Every_flipped_bit_of_a_stream_is_detected()
    {
        var bytes = StreamBuilder.Build(pages: 4);
        Assert.InRange(bytes.Length, 4000, 20_000);
        var undetected = new List<int>();
        for (var bit = 0; bit < bytes.Length * 8; bit++)
        {
            var copy = (byte[])bytes.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                StreamBuilder.ReadAll(copy);
                undetected.Add(bit);
            }
            catch (MigrationStreamException e)
            {
                Assert.InRange(e.Offset, 0, copy.Length);
            }
        }

        Assert.Empty(undetected);
    }

    [Fact]
    public void Wrong_magic_is_refused_at_byte_zero()
    {
        var bytes = StreamBuilder.Build();
        "GARBAGE!"u8.CopyTo(bytes);

        var e = Assert.Throws<MigrationStreamException>(() => StreamBuilder.ReadAll(bytes));

        Assert.Contains("not a migration stream", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, e.Offset);
    }

    [Fact]
    public void A_future_format_version_is_refused_by_number()
    {
        var bytes = StreamBuilder.Build();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), 2);

        var e = Assert.Throws<MigrationStreamException>(() => StreamBuilder.ReadAll(bytes));

        Assert.Equal("format version 2 is newer than this build reads (1) (at byte 8)", e.Message);
    }

    [Fact]
    public void A_length_above_the_bound_is_refused_before_the_payload_is_read()
    {
        var bytes = StreamBuilder.Build();
        var first = FirstFrameOffset(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(first + 4), uint.MaxValue);

        // Only the header and the frame header are there: a reader that trusted the length would fail on truncation instead.
        var e = Assert.Throws<MigrationStreamException>(() => StreamBuilder.ReadAll(bytes[..(first + 8)]));

        Assert.Equal($"section frame length 4294967295 exceeds the bound of {StreamFormat.MaxSectionLength} bytes", e.Problem);
        Assert.Equal(first + 4, e.Offset);
    }

    [Fact]
    public void An_unknown_frame_type_is_refused_by_value()
    {
        var bytes = StreamBuilder.Build();
        var first = FirstFrameOffset(bytes);
        bytes[first] = 0x42;

        var e = Assert.Throws<MigrationStreamException>(() => StreamBuilder.ReadAll(bytes));

        Assert.Equal("unknown frame type 0x42", e.Problem);
        Assert.Equal(first, e.Offset);
    }

    [Fact]
    public void Bytes_after_the_end_frame_are_refused_in_a_file_but_left_alone_on_a_connection()
    {
        var bytes = StreamBuilder.Build().Concat(new byte[] { 1, 2, 3 }).ToArray();

        var e = Assert.Throws<MigrationStreamException>(() => StreamBuilder.ReadAll(bytes));
        Assert.Contains("data follows the end frame", e.Message, StringComparison.Ordinal);

        Assert.Equal(6, StreamBuilder.ReadAll(bytes, requireEnd: false).Count);
    }

    [Fact]
    public void A_stream_without_its_end_frame_is_refused_as_cut_short()
    {
        var bytes = StreamBuilder.Build();
        var withoutEnd = bytes[..^(StreamFormat.FrameHeaderSize + StreamFormat.EndLength + StreamFormat.ChecksumSize)];

        var e = Assert.Throws<MigrationStreamException>(() => StreamBuilder.ReadAll(withoutEnd));

        Assert.Contains("without an end frame", e.Message, StringComparison.Ordinal);
        Assert.Equal(withoutEnd.Length, e.Offset);
    }

    [Fact]
    public void A_dropped_frame_with_a_consistent_count_is_still_caught_by_the_digest()
    {
        // Remove the alpha section and rewrite the end frame's counts (and its checksum) to match: only the digest can tell.
        var bytes = StreamBuilder.Build();
        var first = FirstFrameOffset(bytes);
        var alphaLength = StreamFormat.FrameHeaderSize + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(first + 4)) + StreamFormat.ChecksumSize;
        var shorter = bytes[..first].Concat(bytes[(first + alphaLength)..]).ToArray();
        var end = shorter.Length - StreamFormat.FrameHeaderSize - StreamFormat.EndLength - StreamFormat.ChecksumSize;
        var payload = shorter.AsSpan(end + StreamFormat.FrameHeaderSize, StreamFormat.EndLength);
        BinaryPrimitives.WriteInt64LittleEndian(payload, BinaryPrimitives.ReadInt64LittleEndian(payload) - 1);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], end);
        BinaryPrimitives.WriteUInt64LittleEndian(shorter.AsSpan(shorter.Length - 8), XxHash3.HashToUInt64(shorter.AsSpan(end, StreamFormat.FrameHeaderSize + StreamFormat.EndLength)));

        var e = Assert.Throws<MigrationStreamException>(() => StreamBuilder.ReadAll(shorter));

        Assert.Contains("stream digest mismatch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_writer_refuses_names_and_sizes_a_reader_would_refuse()
    {
        var writer = new MigrationStreamWriter(new MemoryStream(), "ok-kind");
        await writer.WriteHeaderAsync();

        await Assert.ThrowsAsync<ArgumentException>(async () => await writer.WriteSectionAsync(new StateSection("Upper", 1, [])));
        await Assert.ThrowsAsync<ArgumentException>(async () => await writer.WriteSectionAsync(new StateSection("big", 1, new byte[StreamFormat.MaxSectionLength])));
        Assert.Throws<ArgumentException>(() => new MigrationStreamWriter(new MemoryStream(), "kind with spaces"));
    }

    private static ulong Digest(byte[] bytes) => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 16));

    private static int FirstFrameOffset(byte[] bytes) => StreamFormat.HeaderFixedSize + bytes[12] + StreamFormat.ChecksumSize;
}
