using System.Buffers.Binary;
using static Migration.Machine.Tests.Cpu.Asm;
using static Migration.Machine.Tests.Cpu.TestMachine;

namespace Migration.Machine.Tests.Cpu;

public class LoadStoreTests
{
    private const ulong DataAddress = RamBase + 0x1_0000;
    private const ulong PageBoundary = DataAddress + 0x1000;
    private const ulong Sentinel = 0x5EE5_5EE5_5EE5_5EE5;

    private static readonly byte[] Bytes =
        [0x80, 0x7F, 0xFF, 0x01, 0x00, 0x80, 0xFF, 0x7F, 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01];

    private static readonly Dictionary<string, Func<int, int, int, uint>> Loads = new()
    {
        ["lb"] = Lb, ["lbu"] = Lbu, ["lh"] = Lh, ["lhu"] = Lhu, ["lw"] = Lw, ["lwu"] = Lwu, ["ld"] = Ld,
    };

    private static readonly Dictionary<string, (Func<int, int, int, uint> Store, int Width, Func<int, int, int, uint> Load)> Stores = new()
    {
        ["sb"] = (Sb, 1, Lbu), ["sh"] = (Sh, 2, Lhu), ["sw"] = (Sw, 4, Lwu), ["sd"] = (Sd, 8, Ld),
    };

    [Theory]
    [InlineData("lb", 0, 0xFFFF_FFFF_FFFF_FF80UL)]
    [InlineData("lb", 1, 0x7FUL)]
    [InlineData("lb", 2, 0xFFFF_FFFF_FFFF_FFFFUL)]
    [InlineData("lbu", 0, 0x80UL)]
    [InlineData("lbu", 2, 0xFFUL)]
    [InlineData("lh", 0, 0x7F80UL)]
    [InlineData("lh", 4, 0xFFFF_FFFF_FFFF_8000UL)]
    [InlineData("lh", 1, 0xFFFF_FFFF_FFFF_FF7FUL)]
    [InlineData("lhu", 4, 0x8000UL)]
    [InlineData("lhu", 1, 0xFF7FUL)]
    [InlineData("lw", 0, 0x01FF_7F80UL)]
    [InlineData("lw", 8, 0xFFFF_FFFF_89AB_CDEFUL)]
    [InlineData("lw", 2, 0xFFFF_FFFF_8000_01FFUL)]
    [InlineData("lwu", 8, 0x89AB_CDEFUL)]
    [InlineData("lwu", 2, 0x8000_01FFUL)]
    [InlineData("ld", 0, 0x7FFF_8000_01FF_7F80UL)]
    [InlineData("ld", 8, 0x0123_4567_89AB_CDEFUL)]
    [InlineData("ld", 3, 0xABCD_EF7F_FF80_0001UL)]
    public void Loads_sign_or_zero_extend(string op, int offset, ulong expected)
    {
        // The base register points past the data so that offsets below 8 use negative immediates.
        var code = new CodeBuilder().Li(T0, DataAddress + 8).Emit(Loads[op](T2, T0, offset - 8));
        AssertHex(expected, RunFor(T2, code, [Data(DataAddress, Bytes)]));
    }

    [Theory]
    [InlineData("sb", 0)]
    [InlineData("sb", 3)]
    [InlineData("sh", 0)]
    [InlineData("sh", 5)]
    [InlineData("sw", 0)]
    [InlineData("sw", 1)]
    [InlineData("sw", 6)]
    [InlineData("sd", 0)]
    [InlineData("sd", 7)]
    public void Stores_write_exactly_their_width(string op, int offset)
    {
        const ulong value = 0x1122_3344_5566_7788;
        var (store, width, load) = Stores[op];
        var code = new CodeBuilder()
            .Li(T0, DataAddress + 16).Li(T1, value)
            .Emit(store(T1, T0, offset - 16), load(T2, T0, offset - 16));
        using var machine = Run(code.Exit(0), data: [Data(DataAddress, Enumerable.Repeat((byte)0xAA, 24).ToArray())]);
        machine.AssertExited(0);

        var expected = Enumerable.Repeat((byte)0xAA, 24).ToArray();
        BitConverter.GetBytes(value).AsSpan(0, width).CopyTo(expected.AsSpan(offset));
        var actual = new byte[24];
        machine.Machine.Memory.Read(DataAddress, actual);
        Assert.Equal(expected, actual);
        AssertHex(width == 8 ? value : value & ((1UL << (width * 8)) - 1), machine[T2]);
    }

    [Theory]
    [InlineData("lh", -1, 0x0807UL)]
    [InlineData("lw", -2, 0x0908_0706UL)]
    [InlineData("lwu", -1, 0x0A09_0807UL)]
    [InlineData("ld", -3, 0x0C0B_0A09_0807_0605UL)]
    [InlineData("ld", -7, 0x0807_0605_0403_0201UL)]
    public void Misaligned_loads_across_a_page_boundary(string op, int offset, ulong expected)
    {
        var bytes = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        var code = new CodeBuilder().Li(T0, PageBoundary).Emit(Loads[op](T2, T0, offset));
        AssertHex(expected, RunFor(T2, code, [Data(PageBoundary - 8, bytes)]));
    }

    [Fact]
    public void Misaligned_stores_across_a_page_boundary_mark_both_pages_dirty()
    {
        const ulong value = 0x0102_0304_0506_0708;
        var sdAt = RamBase + 0x8_0000 - 4;      // pages 127 and 128: also two words of the dirty bitmap
        var sdInside = RamBase + 0x9_0000 - 8;  // page 143 only
        var shAt = RamBase + 0xA_0000 - 1;      // pages 159 and 160
        var sbAt = RamBase + 0xA_A000 + 123;    // page 170
        var code = new CodeBuilder().Li(T1, value)
            .Li(T0, sdAt).Emit(Sd(T1, T0, 0), Ld(S1, T0, 0))
            .Li(T0, sdInside).Emit(Sd(T1, T0, 0))
            .Li(T0, shAt).Emit(Sh(T1, T0, 0), Lhu(S2, T0, 0))
            .Li(T0, sbAt).Emit(Sb(T1, T0, 0));
        using var machine = Create(code.Exit(0));
        var dirty = machine.Machine.Memory.DirtyLog;
        // Loading the image dirtied the program's and the argument block's pages; start from a clean log.
        _ = dirty.CollectAndClear();

        machine.RunToCompletion();
        machine.AssertExited(0);
        Assert.Equal([127, 128, 143, 159, 160, 170], dirty.CollectAndClear().ToArray());
        AssertHex(value, machine.Machine.Memory.ReadUInt64(sdAt));
        AssertHex(value, machine[S1]);
        AssertHex(0x0708, machine[S2]);
    }

    [Theory]
    [InlineData("lb", 1)]
    [InlineData("lbu", 1)]
    [InlineData("lh", 2)]
    [InlineData("lhu", 2)]
    [InlineData("lw", 4)]
    [InlineData("lwu", 4)]
    [InlineData("ld", 8)]
    public void Loads_reach_the_last_byte_of_RAM_and_fault_one_byte_beyond(string op, int width)
    {
        var lastFit = RamEnd - (ulong)width;
        var body = TrapProgram.Begin()
            .Li(T0, lastFit).Emit(Loads[op](S1, T0, 0))
            .Li(S7, unchecked((long)Sentinel)).Li(T0, lastFit + 1);
        var faultPc = body.Pc;
        body.Emit(Loads[op](S7, T0, 0));

        using var machine = TrapProgram.RunExpectingOneTrap(body);
        Assert.Equal(5UL, machine[TrapProgram.Cause]);
        AssertHex(faultPc, machine[TrapProgram.Epc]);
        AssertHex(lastFit + 1, machine[TrapProgram.Tval]);
        AssertHex(Sentinel, machine[S7]);
    }

    [Theory]
    [InlineData("sb", 1)]
    [InlineData("sh", 2)]
    [InlineData("sw", 4)]
    [InlineData("sd", 8)]
    public void Stores_reach_the_last_byte_of_RAM_and_fault_without_writing_one_byte_beyond(string op, int width)
    {
        var lastFit = RamEnd - (ulong)width;
        var body = TrapProgram.Begin()
            .Li(T1, -1L)
            .Li(T0, lastFit).Emit(Stores[op].Store(T1, T0, 0))
            .Li(T0, lastFit + 1);
        var faultPc = body.Pc;
        body.Emit(Stores[op].Store(Zero, T0, 0));

        using var machine = TrapProgram.RunExpectingOneTrap(body);
        Assert.Equal(7UL, machine[TrapProgram.Cause]);
        AssertHex(faultPc, machine[TrapProgram.Epc]);
        AssertHex(lastFit + 1, machine[TrapProgram.Tval]);
        var tail = new byte[width];
        machine.Machine.Memory.Read(lastFit, tail);
        Assert.All(tail, b => Assert.Equal(0xFF, b));
    }

    [Theory]
    [InlineData(0x10UL, 0)]
    [InlineData(0UL, 0)]
    [InlineData(RamBase, -1)]
    [InlineData(0xFFFF_FFFF_FFFF_FFFFUL, 1)]
    [InlineData(RamEnd, 0)]
    [InlineData(0xFFFF_FFFF_8000_0000UL, 0)]
    public void Loads_outside_RAM_raise_a_load_access_fault(ulong baseAddress, int offset)
    {
        var body = TrapProgram.Begin().Li(T0, baseAddress).Li(S7, unchecked((long)Sentinel));
        var faultPc = body.Pc;
        body.Emit(Ld(S7, T0, offset));

        using var machine = TrapProgram.RunExpectingOneTrap(body);
        Assert.Equal(5UL, machine[TrapProgram.Cause]);
        AssertHex(faultPc, machine[TrapProgram.Epc]);
        AssertHex(unchecked(baseAddress + (ulong)offset), machine[TrapProgram.Tval]);
        AssertHex(Sentinel, machine[S7]);
    }

    [Fact]
    public void A_store_outside_RAM_raises_a_store_access_fault()
    {
        var body = TrapProgram.Begin().Li(T0, 0x10L);
        var faultPc = body.Pc;
        body.Emit(Sd(T0, T0, 0));

        using var machine = TrapProgram.RunExpectingOneTrap(body);
        Assert.Equal(7UL, machine[TrapProgram.Cause]);
        AssertHex(faultPc, machine[TrapProgram.Epc]);
        Assert.Equal(0x10UL, machine[TrapProgram.Tval]);
    }

    [Fact]
    public void Without_a_handler_a_load_fault_stops_the_machine_naming_address_and_pc()
    {
        using var machine = Run(new CodeBuilder().Emit(Addi(T0, Zero, 0x10), Ld(T1, T0, 0)).Exit(0));
        var message = machine.AssertFaulted();
        Assert.Contains("load access fault", message, StringComparison.Ordinal);
        Assert.Contains("0x10", message, StringComparison.Ordinal);
        Assert.Contains("pc 0x80000004", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_handler_a_store_fault_stops_the_machine_naming_address_and_pc()
    {
        using var machine = Run(new CodeBuilder().Emit(Nop(), Addi(T0, Zero, 0x20), Sw(T0, T0, 0)).Exit(0));
        var message = machine.AssertFaulted();
        Assert.Contains("store access fault", message, StringComparison.Ordinal);
        Assert.Contains("address 0x20", message, StringComparison.Ordinal);
        Assert.Contains("pc 0x80000008", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stored_data_is_visible_to_the_host_in_little_endian_order()
    {
        var code = new CodeBuilder().Li(T0, DataAddress).Li(T1, 0x0102_0304_0506_0708L).Emit(Sd(T1, T0, 0));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        var bytes = new byte[8];
        machine.Machine.Memory.Read(DataAddress, bytes);
        Assert.Equal(0x0102_0304_0506_0708UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        Assert.Equal(0x08, bytes[0]);
    }
}
