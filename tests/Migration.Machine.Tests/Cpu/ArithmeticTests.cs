using Migration.Machine.RiscV;
using static Migration.Machine.Tests.Cpu.Asm;
using static Migration.Machine.Tests.Cpu.TestMachine;

namespace Migration.Machine.Tests.Cpu;

public class ArithmeticTests
{
    private const ulong Min = 0x8000_0000_0000_0000UL;
    private const ulong Max = 0x7FFF_FFFF_FFFF_FFFFUL;
    private const ulong AllOnes = ulong.MaxValue;

    private static readonly Dictionary<string, Func<int, int, int, uint>> RegisterOps = new()
    {
        ["add"] = Add, ["sub"] = Sub, ["sll"] = Sll, ["slt"] = Slt, ["sltu"] = Sltu,
        ["xor"] = Xor, ["srl"] = Srl, ["sra"] = Sra, ["or"] = Or, ["and"] = And,
        ["addw"] = Addw, ["subw"] = Subw, ["sllw"] = Sllw, ["srlw"] = Srlw, ["sraw"] = Sraw,
    };

    private static readonly Dictionary<string, Func<int, int, int, uint>> ImmediateOps = new()
    {
        ["addi"] = Addi, ["slti"] = Slti, ["sltiu"] = Sltiu, ["xori"] = Xori, ["ori"] = Ori, ["andi"] = Andi,
        ["slli"] = Slli, ["srli"] = Srli, ["srai"] = Srai,
        ["addiw"] = Addiw, ["slliw"] = Slliw, ["srliw"] = Srliw, ["sraiw"] = Sraiw,
    };

    [Theory]
    [InlineData("add", 1UL, 2UL, 3UL)]
    [InlineData("add", AllOnes, 1UL, 0UL)]
    [InlineData("add", Max, 1UL, Min)]
    [InlineData("add", Min, Min, 0UL)]
    [InlineData("sub", 0UL, 1UL, AllOnes)]
    [InlineData("sub", Min, 1UL, Max)]
    [InlineData("sub", 5UL, 5UL, 0UL)]
    [InlineData("sll", 1UL, 0UL, 1UL)]
    [InlineData("sll", 1UL, 31UL, 0x8000_0000UL)]
    [InlineData("sll", 1UL, 32UL, 0x1_0000_0000UL)]
    [InlineData("sll", 1UL, 63UL, Min)]
    [InlineData("sll", 1UL, 64UL, 1UL)]
    [InlineData("sll", 1UL, 65UL, 2UL)]
    [InlineData("sll", 3UL, 0xFFFF_FFFF_FFFF_FFC1UL, 6UL)]
    [InlineData("srl", Min, 63UL, 1UL)]
    [InlineData("srl", Min, 64UL, Min)]
    [InlineData("srl", AllOnes, 32UL, 0xFFFF_FFFFUL)]
    [InlineData("srl", AllOnes, 127UL, 1UL)]
    [InlineData("sra", Min, 63UL, AllOnes)]
    [InlineData("sra", Min, 1UL, 0xC000_0000_0000_0000UL)]
    [InlineData("sra", Min, 32UL, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("sra", 0x4000_0000_0000_0000UL, 62UL, 1UL)]
    [InlineData("sra", Min, 0x40UL, Min)]
    [InlineData("slt", AllOnes, 1UL, 1UL)]
    [InlineData("slt", 1UL, AllOnes, 0UL)]
    [InlineData("slt", Min, Max, 1UL)]
    [InlineData("slt", Max, Min, 0UL)]
    [InlineData("slt", 5UL, 5UL, 0UL)]
    [InlineData("sltu", AllOnes, 1UL, 0UL)]
    [InlineData("sltu", 1UL, AllOnes, 1UL)]
    [InlineData("sltu", Max, Min, 1UL)]
    [InlineData("sltu", 0UL, 0UL, 0UL)]
    [InlineData("xor", 0xFF00_FF00_FF00_FF00UL, 0x0FF0_0FF0_0FF0_0FF0UL, 0xF0F0_F0F0_F0F0_F0F0UL)]
    [InlineData("xor", AllOnes, AllOnes, 0UL)]
    [InlineData("or", 0xFF00_FF00_FF00_FF00UL, 0x0FF0_0FF0_0FF0_0FF0UL, 0xFFF0_FFF0_FFF0_FFF0UL)]
    [InlineData("or", 0UL, 0UL, 0UL)]
    [InlineData("and", 0xFF00_FF00_FF00_FF00UL, 0x0FF0_0FF0_0FF0_0FF0UL, 0x0F00_0F00_0F00_0F00UL)]
    [InlineData("and", AllOnes, Min, Min)]
    [InlineData("addw", 0x7FFF_FFFFUL, 1UL, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("addw", 0xFFFF_FFFFUL, 1UL, 0UL)]
    [InlineData("addw", 0x1_0000_0001UL, 0x1_0000_0001UL, 2UL)]
    [InlineData("addw", 0x8000_0000UL, 0x8000_0000UL, 0UL)]
    [InlineData("subw", 0UL, 1UL, AllOnes)]
    [InlineData("subw", 0x8000_0000UL, 1UL, 0x7FFF_FFFFUL)]
    [InlineData("subw", 0x7FFF_FFFFUL, AllOnes, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("subw", 0x1_0000_0000UL, 0UL, 0UL)]
    [InlineData("sllw", 1UL, 31UL, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("sllw", 1UL, 32UL, 1UL)]
    [InlineData("sllw", 1UL, 63UL, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("sllw", 0xFFFF_FFFF_0000_0001UL, 1UL, 2UL)]
    [InlineData("sllw", 0x4000_0000UL, 0UL, 0x4000_0000UL)]
    [InlineData("srlw", 0x8000_0000UL, 31UL, 1UL)]
    [InlineData("srlw", 0x8000_0000UL, 0UL, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("srlw", 0x8000_0000UL, 32UL, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("srlw", 0x8000_0000UL, 1UL, 0x4000_0000UL)]
    [InlineData("srlw", 0xFFFF_FFFF_0000_0000UL, 4UL, 0UL)]
    [InlineData("sraw", 0x8000_0000UL, 31UL, AllOnes)]
    [InlineData("sraw", 0x8000_0000UL, 32UL, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("sraw", 0x8000_0000UL, 4UL, 0xFFFF_FFFF_F800_0000UL)]
    [InlineData("sraw", 0x7FFF_FFFFUL, 30UL, 1UL)]
    [InlineData("sraw", 0xFFFF_FFFF_7FFF_FFFFUL, 63UL, 0UL)]
    public void Register_register_operations(string op, ulong rs1, ulong rs2, ulong expected) =>
        AssertHex(expected, TestMachine.Binary(RegisterOps[op], rs1, rs2));

    [Theory]
    [InlineData("addi", 5UL, -1, 4UL)]
    [InlineData("addi", Max, 1, Min)]
    [InlineData("addi", 0UL, -2048, 0xFFFF_FFFF_FFFF_F800UL)]
    [InlineData("addi", 0UL, 2047, 2047UL)]
    [InlineData("addi", AllOnes, 1, 0UL)]
    [InlineData("slti", AllOnes, 0, 1UL)]
    [InlineData("slti", 0UL, -1, 0UL)]
    [InlineData("slti", Min, -2048, 1UL)]
    [InlineData("slti", 2047UL, 2047, 0UL)]
    [InlineData("sltiu", 0UL, -1, 1UL)]
    [InlineData("sltiu", AllOnes, -1, 0UL)]
    [InlineData("sltiu", 0xFFFF_FFFF_FFFF_F7FFUL, -2048, 1UL)]
    [InlineData("sltiu", 0UL, 1, 1UL)]
    [InlineData("sltiu", 1UL, 1, 0UL)]
    [InlineData("xori", 0x1234UL, -1, 0xFFFF_FFFF_FFFF_EDCBUL)]
    [InlineData("xori", 0UL, -2048, 0xFFFF_FFFF_FFFF_F800UL)]
    [InlineData("xori", 0x0F0UL, 0x0FF, 0x00FUL)]
    [InlineData("ori", 0x100UL, 0x0FF, 0x1FFUL)]
    [InlineData("ori", 0UL, -1, AllOnes)]
    [InlineData("andi", AllOnes, 0x7FF, 0x7FFUL)]
    [InlineData("andi", AllOnes, -2048, 0xFFFF_FFFF_FFFF_F800UL)]
    [InlineData("andi", 0x1234UL, 0, 0UL)]
    [InlineData("slli", 1UL, 0, 1UL)]
    [InlineData("slli", 1UL, 31, 0x8000_0000UL)]
    [InlineData("slli", 1UL, 32, 0x1_0000_0000UL)]
    [InlineData("slli", 1UL, 63, Min)]
    [InlineData("slli", AllOnes, 63, Min)]
    [InlineData("srli", Min, 63, 1UL)]
    [InlineData("srli", AllOnes, 32, 0xFFFF_FFFFUL)]
    [InlineData("srli", AllOnes, 0, AllOnes)]
    [InlineData("srli", Min, 31, 0x1_0000_0000UL)]
    [InlineData("srai", Min, 63, AllOnes)]
    [InlineData("srai", Min, 32, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("srai", Min, 0, Min)]
    [InlineData("srai", 0x4000_0000_0000_0000UL, 62, 1UL)]
    [InlineData("addiw", 0x7FFF_FFFFUL, 1, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("addiw", AllOnes, 1, 0UL)]
    [InlineData("addiw", 0x1_2345_6789UL, 0, 0x2345_6789UL)]
    [InlineData("addiw", 0x8000_0000UL, 0, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("addiw", 0UL, -1, AllOnes)]
    [InlineData("addiw", 0xFFFF_FFFF_8000_0000UL, -1, 0x7FFF_FFFFUL)]
    [InlineData("slliw", 1UL, 31, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("slliw", 0xFFFF_FFFF_0000_0001UL, 0, 1UL)]
    [InlineData("slliw", 0x1_0000_0001UL, 1, 2UL)]
    [InlineData("slliw", 3UL, 31, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("srliw", 0x8000_0000UL, 0, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("srliw", 0x8000_0000UL, 31, 1UL)]
    [InlineData("srliw", AllOnes, 1, 0x7FFF_FFFFUL)]
    [InlineData("srliw", 0x1234_5678_0000_0000UL, 4, 0UL)]
    [InlineData("sraiw", 0x8000_0000UL, 31, AllOnes)]
    [InlineData("sraiw", 0x8000_0000UL, 0, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("sraiw", 0x7FFF_FFFFUL, 31, 0UL)]
    [InlineData("sraiw", 0xF000_0000UL, 4, 0xFFFF_FFFF_FF00_0000UL)]
    public void Register_immediate_operations(string op, ulong rs1, int imm, ulong expected) =>
        AssertHex(expected, TestMachine.Immediate(ImmediateOps[op], rs1, imm));

    [Theory]
    [InlineData(0, 0UL)]
    [InlineData(0x12345, 0x1234_5000UL)]
    [InlineData(0x7FFFF, 0x7FFF_F000UL)]
    [InlineData(0x80000, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData(0xFFFFF, 0xFFFF_FFFF_FFFF_F000UL)]
    public void Lui_sign_extends_bit_31(int imm20, ulong expected) =>
        AssertHex(expected, TestMachine.RunFor(T2, new CodeBuilder().Li(T2, -1L).Emit(Lui(T2, imm20))));

    [Theory]
    [InlineData(0, 0x8000_0008UL)]
    [InlineData(1, 0x8000_1008UL)]
    [InlineData(0xFFFFF, 0x7FFF_F008UL)]
    [InlineData(0x80000, 0x8UL)]
    [InlineData(0x7FFFF, 0xFFFF_F008UL)]
    public void Auipc_adds_the_upper_immediate_to_its_own_address(int imm20, ulong expected) =>
        AssertHex(expected, TestMachine.RunFor(T2, new CodeBuilder().Emit(Nop(), Nop(), Auipc(T2, imm20))));

    [Fact]
    public void Auipc_on_a_later_page_uses_that_page_address()
    {
        var code = new CodeBuilder().PadTo(TestMachine.RamBase + 0x1FFC).Emit(Auipc(T2, 0), Auipc(T3, 0));
        using var machine = TestMachine.Run(code.Exit(0));
        machine.AssertExited(0);
        AssertHex(0x8000_1FFCUL, machine[T2]);
        AssertHex(0x8000_2000UL, machine[T3]);
    }

    public static TheoryData<string, uint> WritesToX0 => new()
    {
        { "addi", Addi(Zero, T0, 1) },
        { "slti", Slti(Zero, T0, 100) },
        { "sltiu", Sltiu(Zero, T0, 100) },
        { "xori", Xori(Zero, T0, -1) },
        { "ori", Ori(Zero, T0, 1) },
        { "andi", Andi(Zero, T0, -1) },
        { "slli", Slli(Zero, T0, 1) },
        { "srli", Srli(Zero, T0, 1) },
        { "srai", Srai(Zero, T0, 1) },
        { "lui", Lui(Zero, 0x12345) },
        { "auipc", Auipc(Zero, 1) },
        { "add", Add(Zero, T0, T0) },
        { "sub", Sub(Zero, Zero, T0) },
        { "sll", Sll(Zero, T0, T0) },
        { "slt", Slt(Zero, Zero, T0) },
        { "sltu", Sltu(Zero, Zero, T0) },
        { "xor", Xor(Zero, T0, Zero) },
        { "srl", Srl(Zero, T0, Zero) },
        { "sra", Sra(Zero, T0, Zero) },
        { "or", Or(Zero, T0, T0) },
        { "and", And(Zero, T0, T0) },
        { "addiw", Addiw(Zero, T0, 1) },
        { "slliw", Slliw(Zero, T0, 1) },
        { "srliw", Srliw(Zero, T0, 1) },
        { "sraiw", Sraiw(Zero, T0, 1) },
        { "addw", Addw(Zero, T0, T0) },
        { "subw", Subw(Zero, Zero, T0) },
        { "sllw", Sllw(Zero, T0, T0) },
        { "srlw", Srlw(Zero, T0, Zero) },
        { "sraw", Sraw(Zero, T0, Zero) },
        { "mul", Mul(Zero, T0, T0) },
        { "mulh", Mulh(Zero, T0, T0) },
        { "mulhsu", Mulhsu(Zero, T0, T0) },
        { "mulhu", Mulhu(Zero, T0, T0) },
        { "div", Div(Zero, T0, Zero) },
        { "divu", Divu(Zero, T0, Zero) },
        { "rem", Rem(Zero, T0, Zero) },
        { "remu", Remu(Zero, T0, Zero) },
        { "mulw", Mulw(Zero, T0, T0) },
        { "divw", Divw(Zero, T0, Zero) },
        { "divuw", Divuw(Zero, T0, Zero) },
        { "remw", Remw(Zero, T0, Zero) },
        { "remuw", Remuw(Zero, T0, Zero) },
        { "lb", Lb(Zero, Sp, 0) },
        { "lh", Lh(Zero, Sp, 0) },
        { "lw", Lw(Zero, Sp, 0) },
        { "ld", Ld(Zero, Sp, 0) },
        { "lbu", Lbu(Zero, Sp, 0) },
        { "lhu", Lhu(Zero, Sp, 0) },
        { "lwu", Lwu(Zero, Sp, 0) },
        { "jal", Jal(Zero, 4) },
        { "csrrs", Csrrs(Zero, 0x340, T0) },
        { "csrrw", Csrrw(Zero, 0x340, T0) },
        { "csrrwi", Csrrwi(Zero, 0x340, 31) },
    };

    [Theory]
    [MemberData(nameof(WritesToX0))]
    public void Writes_to_x0_are_discarded(string name, uint instruction)
    {
        // sp points at the program itself, so loads read non-zero words.
        var code = new CodeBuilder()
            .Li(T0, 0x7F).Li(Sp, (long)TestMachine.RamBase)
            .Emit(instruction)
            .Emit(Add(T1, Zero, Zero), Addi(T2, Zero, 7), Or(T3, Zero, T0));
        using var machine = TestMachine.Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.True(machine[Zero] == 0, name);
        Assert.Equal(0UL, machine[T1]);
        Assert.Equal(7UL, machine[T2]);
        Assert.Equal(0x7FUL, machine[T3]);
    }

    [Fact]
    public void Destination_may_alias_both_sources()
    {
        var code = new CodeBuilder()
            .Li(T0, 21).Emit(Add(T0, T0, T0))
            .Li(T1, 5).Emit(Sub(T1, T1, T1))
            .Li(T2, 0x1000).Emit(Mul(T2, T2, T2))
            .Li(T3, 6).Emit(Sll(T3, T3, T3));
        using var machine = TestMachine.Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(42UL, machine[T0]);
        Assert.Equal(0UL, machine[T1]);
        Assert.Equal(0x100_0000UL, machine[T2]);
        Assert.Equal(6UL << 6, machine[T3]);
    }

    [Fact]
    public void All_32_registers_hold_distinct_values()
    {
        var code = new CodeBuilder();
        for (var r = 1; r < 32; r++)
        {
            code.Li(r, (0x1111_1111_1111_1111L * (r % 15)) + r);
        }

        code.Emit(Addi(A7, Zero, 0), Ecall());
        using var machine = TestMachine.Run(code);
        Assert.Equal(MachineExitKind.Exited, machine.Exit!.Kind);
        for (var r = 1; r < 32; r++)
        {
            if (r != A7)
            {
                AssertHex((ulong)((0x1111_1111_1111_1111L * (r % 15)) + r), machine[r]);
            }
        }
    }
}
