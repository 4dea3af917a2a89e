using Migration.Core.Memory;

namespace Migration.Core.Tests.Memory;

public class GuestMemoryTests
{
    [Theory]
    [InlineData(MemoryBacking.HugePages)]
    [InlineData(MemoryBacking.SmallPages)]
    public void Fresh_memory_is_zero_and_clean(MemoryBacking backing)
    {
        using var memory = new GuestMemory(4UL << 20, backing: backing);
        Assert.Equal(GuestMemory.DefaultBase, memory.Base);
        Assert.Equal(1024, memory.PageCount);
        Assert.True(memory.IsZeroPage(0));
        Assert.True(memory.IsZeroPage(1023));
        Assert.Empty(memory.DirtyLog.CollectAndClear());
    }

    [Fact]
    public void Host_writes_mark_pages_and_read_back()
    {
        using var memory = new GuestMemory(1UL << 20);
        memory.Write(memory.Base + 4094, [1, 2, 3, 4]);
        var back = new byte[4];
        memory.Read(memory.Base + 4094, back);
        Assert.Equal([1, 2, 3, 4], back);
        Assert.Equal([0, 1], memory.DirtyLog.CollectAndClear().ToArray());
        Assert.False(memory.IsZeroPage(0));
        Assert.False(memory.IsZeroPage(1));
        Assert.True(memory.IsZeroPage(2));
    }

    [Fact]
    public void A_single_byte_at_the_end_of_a_page_makes_it_non_zero()
    {
        using var memory = new GuestMemory(1UL << 20);
        memory.Write(memory.Base + (3 * 4096) + 4095, [0x80]);
        Assert.False(memory.IsZeroPage(3));
    }

    [Theory]
    [InlineData(0x7FFF_FFFFUL, 1UL)]          // just below RAM
    [InlineData(0x8010_0000UL, 1UL)]          // just past the end of 1 MiB
    [InlineData(0x800F_FFFFUL, 2UL)]          // straddles the end
    [InlineData(0x8000_0000UL, ulong.MaxValue)] // length overflow
    [InlineData(ulong.MaxValue, 2UL)]         // address + length wraps
    public void Ranges_outside_ram_are_refused(ulong address, ulong length)
    {
        using var memory = new GuestMemory(1UL << 20);
        Assert.False(memory.Contains(address, length));
        Assert.False(memory.TryGetSpan(address, length, out _));
    }

    [Fact]
    public void Write_outside_ram_throws_with_the_range_and_changes_nothing()
    {
        using var memory = new GuestMemory(1UL << 20);
        var e = Assert.Throws<GuestMemoryAccessException>(() => memory.Write(memory.End - 2, [1, 2, 3]));
        Assert.Contains("0x800ffffe+3", e.Message, StringComparison.Ordinal);
        Assert.Empty(memory.DirtyLog.CollectAndClear());
        Assert.True(memory.IsZeroPage(memory.PageCount - 1));
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(4096UL)]
    [InlineData((1UL << 20) + 1)]
    public void Sizes_that_are_not_whole_pages_in_range_are_refused(ulong size) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new GuestMemory(size));

    [Fact]
    public void Eight_gibibytes_can_be_reserved_and_touched_sparsely()
    {
        using var memory = new GuestMemory(8UL << 30);
        Assert.Equal(2 * 1024 * 1024, memory.PageCount);
        memory.WriteUInt64(memory.End - 8, 0xDEAD_BEEF);
        Assert.Equal(0xDEAD_BEEFUL, memory.ReadUInt64(memory.End - 8));
        Assert.Equal([memory.PageCount - 1], memory.DirtyLog.CollectAndClear().ToArray());
    }
}
