using System.Text;
using Migration.Host.Vms;

namespace Migration.Host.Tests;

/// <summary>The bounded console ring: offsets only grow, a slow reader learns what it missed, waits end on output or end.</summary>
public sealed class ConsoleBufferTests
{
    [Fact]
    public void Reads_resume_from_any_offset_and_wrap_around_the_ring()
    {
        var buffer = new ConsoleBuffer(capacity: 8);
        buffer.Append("abcde"u8);
        Assert.Equal("cde", Text(buffer.Read(2, 100)));
        buffer.Append("fghij"u8);
        Assert.Equal(10, buffer.End);

        var read = buffer.Read(0, 100);
        Assert.Equal(2, read.Offset);
        Assert.Equal(2, read.Missed);
        Assert.Equal("cdefghij", Text(read));
        Assert.Equal(10, read.NextOffset);
        Assert.Equal("hi", Text(buffer.Read(7, 2)));
        Assert.Empty(buffer.Read(10, 100).Data);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Read(11, 1));
    }

    [Fact]
    public void A_write_larger_than_the_ring_keeps_its_tail_and_counts_every_byte()
    {
        var buffer = new ConsoleBuffer(capacity: 4);
        buffer.Append("0123456789"u8);
        var read = buffer.Read(0, 100);
        Assert.Equal(10, buffer.End);
        Assert.Equal(6, read.Offset);
        Assert.Equal("6789", Text(read));
    }

    [Fact]
    public void A_restored_console_starts_at_the_guests_count_and_cannot_move_once_written()
    {
        var buffer = new ConsoleBuffer();
        buffer.StartAt(1000);
        buffer.Append("x"u8);
        var read = buffer.Read(0, 10);
        Assert.Equal(1000, read.Offset);
        Assert.Equal(1000, read.Missed);
        Assert.Equal("x", Text(read));
        Assert.Throws<InvalidOperationException>(() => buffer.StartAt(5));
    }

    [Fact]
    public async Task A_waiting_reader_wakes_on_output_and_on_the_end_and_times_out_otherwise()
    {
        var buffer = new ConsoleBuffer();
        await buffer.WaitAsync(0, TimeSpan.FromMilliseconds(20), CancellationToken.None);

        var waiting = buffer.WaitAsync(0, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        buffer.Append("a"u8);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        waiting = buffer.WaitAsync(1, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        buffer.Finish();
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(buffer.Read(1, 10).Ended);
    }

    private static string Text(ConsoleRead read) => Encoding.ASCII.GetString(read.Data);
}
