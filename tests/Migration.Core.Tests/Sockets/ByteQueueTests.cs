using Migration.Core.Sockets;

namespace Migration.Core.Tests.Sockets;

public class ByteQueueTests
{
    private static byte[] Pattern(int length, int seed = 0)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31) + seed + (i >> 8));
        }

        return bytes;
    }

    [Fact]
    public void A_new_queue_is_empty_with_the_default_capacity()
    {
        var queue = new ByteQueue();
        Assert.Equal(256 * 1024, queue.Capacity);
        Assert.True(queue.IsEmpty);
        Assert.False(queue.IsFull);
        Assert.Equal(0, queue.Count);
        Assert.Equal(queue.Capacity, queue.Free);
        Assert.Empty(queue.ToArray());
        Assert.True(queue.FirstSegment().IsEmpty);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_capacity_must_be_positive(int capacity) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ByteQueue(capacity));

    [Fact]
    public void A_full_queue_accepts_fewer_bytes_and_keeps_every_accepted_byte()
    {
        var queue = new ByteQueue(10_000);
        var data = Pattern(7_000);

        Assert.Equal(7_000, queue.Enqueue(data));
        Assert.Equal(3_000, queue.Enqueue(data));
        Assert.True(queue.IsFull);
        Assert.Equal(0, queue.Free);
        Assert.Equal(0, queue.Enqueue(data));
        Assert.Equal(0, queue.Enqueue([1]));

        // What was accepted is the first 7000 bytes and then the first 3000 again; nothing offered past the room went in.
        Assert.Equal([.. data, .. data.AsSpan(0, 3_000)], queue.ToArray());
    }

    [Fact]
    public void Bytes_come_out_in_order_across_wrap_around()
    {
        // A capacity that is not a power of two, so the ring's size and the limit differ.
        var queue = new ByteQueue(5_000);
        var source = Pattern(60_000, seed: 7);
        var expected = new Queue<byte>();
        var output = new List<byte>();
        var offset = 0;
        var step = 0;
        var buffer = new byte[3_333];
        while (offset < source.Length)
        {
            // Uneven enqueue and dequeue sizes push the head and tail around the ring at varying positions.
            var chunk = source.AsSpan(offset, Math.Min(1_000 + (step * 377 % 2_500), source.Length - offset));
            var accepted = queue.Enqueue(chunk);
            Assert.Equal(Math.Min(chunk.Length, 5_000 - expected.Count), accepted);
            foreach (var b in chunk[..accepted])
            {
                expected.Enqueue(b);
            }

            offset += accepted;
            Assert.True(queue.Count <= queue.Capacity);
            Assert.Equal(expected.Count, queue.Count);

            var take = buffer.AsSpan(0, 500 + (step * 911 % 2_800));
            var n = queue.Dequeue(take);
            output.AddRange(take[..n].ToArray());
            for (var i = 0; i < n; i++)
            {
                Assert.Equal(expected.Dequeue(), take[i]);
            }

            step++;
        }

        while (!queue.IsEmpty)
        {
            var n = queue.Dequeue(buffer);
            output.AddRange(buffer.AsSpan(0, n).ToArray());
        }

        Assert.Equal(source, output);
    }

    [Fact]
    public void Peek_copies_without_removing_and_Dequeue_removes()
    {
        var queue = new ByteQueue(16);
        queue.Enqueue([1, 2, 3, 4, 5]);

        var peeked = new byte[3];
        Assert.Equal(3, queue.Peek(peeked));
        Assert.Equal([1, 2, 3], peeked);
        Assert.Equal(5, queue.Count);

        var again = new byte[10];
        Assert.Equal(5, queue.Peek(again));
        Assert.Equal([1, 2, 3, 4, 5], again[..5]);

        var taken = new byte[2];
        Assert.Equal(2, queue.Dequeue(taken));
        Assert.Equal([1, 2], taken);
        Assert.Equal(3, queue.Count);
        Assert.Equal([3, 4, 5], queue.ToArray());

        Assert.Equal(0, queue.Peek([]));
        Assert.Equal(0, queue.Dequeue([]));
        Assert.Equal(3, queue.Count);
    }

    [Fact]
    public void Peek_and_FirstSegment_see_the_oldest_bytes_when_they_wrap()
    {
        // 4096 is the ring's first allocation; a capacity of exactly that makes the wrap deterministic.
        var queue = new ByteQueue(4096);
        var first = Pattern(4000, seed: 1);
        Assert.Equal(4000, queue.Enqueue(first));
        queue.Discard(3900);
        var second = Pattern(3000, seed: 2);
        Assert.Equal(3000, queue.Enqueue(second));

        var expected = first[3900..].Concat(second).ToArray();
        Assert.Equal(expected, queue.ToArray());
        var peeked = new byte[expected.Length];
        Assert.Equal(expected.Length, queue.Peek(peeked));
        Assert.Equal(expected, peeked);

        // The first contiguous run ends at the end of the ring.
        var segment = queue.FirstSegment();
        Assert.Equal(196, segment.Length);
        Assert.Equal(expected[..196], segment.ToArray());
    }

    [Fact]
    public void Discard_refuses_more_than_is_queued()
    {
        var queue = new ByteQueue(8);
        queue.Enqueue([1, 2, 3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.Discard(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.Discard(-1));
        queue.Discard(3);
        Assert.True(queue.IsEmpty);
    }

    [Fact]
    public void Clear_empties_the_queue_and_it_fills_again()
    {
        var queue = new ByteQueue(8);
        queue.Enqueue([1, 2, 3, 4, 5, 6, 7, 8]);
        queue.Clear();
        Assert.True(queue.IsEmpty);
        Assert.Equal(8, queue.Enqueue([9, 9, 9, 9, 9, 9, 9, 9, 9]));
        Assert.Equal(Enumerable.Repeat((byte)9, 8), queue.ToArray());
    }

    [Fact]
    public void Contents_replaces_the_queue_and_returns_the_bytes_oldest_first()
    {
        var queue = new ByteQueue(16);
        queue.Enqueue([1, 2, 3]);
        queue.Contents = [7, 8, 9, 10];
        Assert.Equal([7, 8, 9, 10], queue.Contents);
        Assert.Equal(4, queue.Count);
        Assert.Equal(12, queue.Enqueue(Pattern(20)));
        Assert.True(queue.IsFull);
        Assert.Equal([7, 8, 9, 10, .. Pattern(12)], queue.Contents);

        queue.Contents = [];
        Assert.True(queue.IsEmpty);
    }

    [Fact]
    public void Contents_is_a_copy_in_both_directions()
    {
        var queue = new ByteQueue(16);
        var source = new byte[] { 1, 2, 3 };
        queue.Contents = source;
        source[0] = 99;
        var read = queue.Contents;
        read[1] = 99;
        Assert.Equal([1, 2, 3], queue.ToArray());
    }

    [Fact]
    public void Contents_refuses_more_than_the_capacity_with_a_clear_message()
    {
        var queue = new ByteQueue(4);
        var e = Assert.Throws<InvalidDataException>(() => queue.Contents = [1, 2, 3, 4, 5]);
        Assert.Contains("5 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("capacity 4", e.Message, StringComparison.Ordinal);
        Assert.True(queue.IsEmpty);

        queue.Contents = [1, 2, 3, 4];
        Assert.True(queue.IsFull);
    }
}
