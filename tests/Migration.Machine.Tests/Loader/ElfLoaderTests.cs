using Migration.Machine.RiscV.Loader;

namespace Migration.Machine.Tests.Loader;

public class ElfLoaderTests
{
    private const ulong RamBase = 0x8000_0000;
    private const ulong RamSize = 1UL << 20;

    private static readonly byte[] Code = [0x13, 0x05, 0xA0, 0x02, 0x73, 0x00, 0x00, 0x00];

    [Fact]
    public void Committed_counter_guest_loads_with_entry_at_ram_base_and_a_tohost_symbol()
    {
        var image = ElfLoader.Load(RepositoryPaths.Guest("counter"), RamBase, 256UL << 20);
        Assert.Equal(RamBase, image.Entry);
        Assert.NotEmpty(image.Segments);
        Assert.NotNull(image.ToHostAddress);
        Assert.All(image.Segments, s => Assert.InRange(s.Address, RamBase, RamBase + (256UL << 20)));
    }

    [Fact]
    public void Minimal_valid_executable_loads()
    {
        var image = ElfLoader.Load("t", new ElfBuilder().Segment(RamBase, Code, 4096).Build(), RamBase, RamSize);
        Assert.Single(image.Segments);
        Assert.Equal(4096UL, image.Segments[0].MemorySize);
        Assert.Null(image.ToHostAddress);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(40)]
    [InlineData(100)]
    public void Truncated_files_are_refused_with_a_reason(int length)
    {
        var whole = new ElfBuilder().Segment(RamBase, Code).Build();
        var e = Assert.Throws<ElfLoadException>(() => ElfLoader.Load("cut.elf", whole[..length], RamBase, RamSize));
        Assert.StartsWith("cut.elf: ", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Contains("truncated", StringComparison.Ordinal) || e.Message.Contains("bad magic", StringComparison.Ordinal), e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Every_truncation_of_a_real_guest_is_refused_cleanly()
    {
        var whole = File.ReadAllBytes(RepositoryPaths.Guest("counter"));
        // Cutting inside the section headers may still leave a loadable file; what must never happen is
        // an exception other than ElfLoadException, or an image whose segments lack bytes.
        for (var length = 0; length < whole.Length; length += 97)
        {
            try
            {
                var image = ElfLoader.Load("cut.elf", whole[..length], RamBase, 256UL << 20);
                Assert.All(image.Segments, s => Assert.True((ulong)s.Data.Length <= s.MemorySize));
            }
            catch (ElfLoadException e)
            {
                Assert.DoesNotContain('\n', e.Message);
            }
        }
    }

    [Fact]
    public void Elf32_is_refused()
    {
        var bytes = new ElfBuilder { Class = 1 }.Segment(RamBase, Code).Build();
        var e = Assert.Throws<ElfLoadException>(() => ElfLoader.Load("x.elf", bytes, RamBase, RamSize));
        Assert.Contains("not ELF64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Big_endian_is_refused()
    {
        var bytes = new ElfBuilder { Encoding = 2 }.Segment(RamBase, Code).Build();
        var e = Assert.Throws<ElfLoadException>(() => ElfLoader.Load("x.elf", bytes, RamBase, RamSize));
        Assert.Contains("little-endian", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_machines_are_refused_by_number()
    {
        var bytes = new ElfBuilder { Machine = 62 }.Segment(RamBase, Code).Build();
        var e = Assert.Throws<ElfLoadException>(() => ElfLoader.Load("x86.elf", bytes, RamBase, RamSize));
        Assert.Equal("x86.elf: machine 62 is not RISC-V (243)", e.Message);
    }

    [Fact]
    public void Shared_objects_are_refused()
    {
        var bytes = new ElfBuilder { Type = 3 }.Segment(RamBase, Code).Build();
        var e = Assert.Throws<ElfLoadException>(() => ElfLoader.Load("x.elf", bytes, RamBase, RamSize));
        Assert.Contains("not an executable", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Host_binaries_are_refused()
    {
        var e = Assert.Throws<ElfLoadException>(() => ElfLoader.Load("/bin/sh", RamBase, RamSize));
        Assert.StartsWith("/bin/sh: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_files_are_refused()
    {
        var e = Assert.Throws<ElfLoadException>(() => ElfLoader.Load("notes.txt", "hello world, not an ELF"u8.ToArray(), RamBase, RamSize));
        Assert.Equal("notes.txt: not an ELF file (bad magic)", e.Message);
    }

    [Fact]
    public void Missing_files_are_refused()
    {
        var e = Assert.Throws<ElfLoadException>(() => ElfLoader.Load("/nonexistent/guest.elf", RamBase, RamSize));
        Assert.Equal("/nonexistent/guest.elf: no such file", e.Message);
    }

    [Theory]
    [InlineData(0x1000UL)]                 // below RAM
    [InlineData(0x800F_F000UL)]            // runs past the end of 1 MiB
    [InlineData(0xFFFF_FFFF_FFFF_F000UL)]  // address + size wraps
    public void Segments_outside_guest_ram_are_refused(ulong address)
    {
        var bytes = new ElfBuilder { Entry = address }.Segment(address, Code, 0x2000).Build();
        var e = Assert.Throws<ElfLoadException>(() => ElfLoader.Load("x.elf", bytes, RamBase, RamSize));
        Assert.Contains("lies outside guest RAM 0x80000000..0x80100000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlapping_segments_are_refused()
    {
        var bytes = new ElfBuilder()
            .Segment(RamBase, Code, 0x2000)
            .Segment(RamBase + 0x1000, Code, 0x100)
            .Build();
        var e = Assert.Throws<ElfLoadException>(() => ElfLoader.Load("x.elf", bytes, RamBase, RamSize));
        Assert.Contains("overlaps the segment at 0x80000000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Entry_outside_the_loaded_segments_is_refused()
    {
        var bytes = new ElfBuilder { Entry = RamBase + 0x5000 }.Segment(RamBase, Code).Build();
        var e = Assert.Throws<ElfLoadException>(() => ElfLoader.Load("x.elf", bytes, RamBase, RamSize));
        Assert.Contains("entry point 0x80005000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_size_larger_than_memory_size_is_refused()
    {
        var bytes = new ElfBuilder().Segment(RamBase, Code, 4).Build();
        var e = Assert.Throws<ElfLoadException>(() => ElfLoader.Load("x.elf", bytes, RamBase, RamSize));
        Assert.Contains("exceeds memory size", e.Message, StringComparison.Ordinal);
    }
}
