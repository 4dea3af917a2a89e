using static Migration.Machine.Tests.Cpu.Asm;

namespace Migration.Machine.Tests.Cpu;

/// <summary>
/// The encoder is checked against words produced by the GNU assembler
/// (riscv64-unknown-elf-as -march=rv64im_zicsr_zifencei), so the CPU tests rest on known-good encodings.
/// </summary>
public class AssemblerTests
{
    public static TheoryData<string, uint, uint> Encodings => new()
    {
        { "addi a0,zero,42", Addi(A0, Zero, 42), 0x02a00513 },
        { "ret", Ret(), 0x00008067 },
        { "ecall", Ecall(), 0x00000073 },
        { "ebreak", Ebreak(), 0x00100073 },
        { "mret", Mret(), 0x30200073 },
        { "wfi", Wfi(), 0x10500073 },
        { "fence", Fence(), 0x0ff0000f },
        { "fence.i", FenceI(), 0x0000100f },
        { "fence rw,w", Fence(0b0011, 0b0001), 0x0310000f },
        { "lui a0,0x12345", Lui(A0, 0x12345), 0x12345537 },
        { "lui t6,0xfffff", Lui(T6, 0xfffff), 0xffffffb7 },
        { "auipc t0,0x80000", Auipc(T0, 0x80000), 0x80000297 },
        { "jal ra,.+2048", Jal(Ra, 2048), 0x001000ef },
        { "jal zero,.-1048576", Jal(Zero, -1048576), 0x8000006f },
        { "jal zero,.+1048574", Jal(Zero, 1048574), 0x7ffff06f },
        { "jalr t1,4(t2)", Jalr(T1, T2, 4), 0x00438367 },
        { "jalr zero,-2048(a5)", Jalr(Zero, A5, -2048), 0x80078067 },
        { "beq a0,a1,.+4094", Beq(A0, A1, 4094), 0x7eb50fe3 },
        { "bne s0,s1,.-4096", Bne(S0, S1, -4096), 0x80941063 },
        { "blt t0,t1,.+8", Blt(T0, T1, 8), 0x0062c463 },
        { "bge a2,a3,.-2", Bge(A2, A3, -2), 0xfed65fe3 },
        { "bltu zero,t6,.+2048", Bltu(Zero, T6, 2048), 0x01f060e3 },
        { "bgeu s11,s10,.-2050", Bgeu(S11, S10, -2050), 0xffadff63 },
        { "lb a0,-1(sp)", Lb(A0, Sp, -1), 0xfff10503 },
        { "lh a1,2047(a2)", Lh(A1, A2, 2047), 0x7ff61583 },
        { "lw a2,-2048(a3)", Lw(A2, A3, -2048), 0x8006a603 },
        { "ld s1,8(s0)", Ld(S1, S0, 8), 0x00843483 },
        { "lbu t0,0(t1)", Lbu(T0, T1, 0), 0x00034283 },
        { "lhu t2,100(gp)", Lhu(T2, Gp, 100), 0x0641d383 },
        { "lwu tp,-100(sp)", Lwu(Tp, Sp, -100), 0xf9c16203 },
        { "sb a0,-1(sp)", Sb(A0, Sp, -1), 0xfea10fa3 },
        { "sh a1,2047(a2)", Sh(A1, A2, 2047), 0x7eb61fa3 },
        { "sw a2,-2048(a3)", Sw(A2, A3, -2048), 0x80c6a023 },
        { "sd ra,8(sp)", Sd(Ra, Sp, 8), 0x00113423 },
        { "slti a0,a1,-1", Slti(A0, A1, -1), 0xfff5a513 },
        { "sltiu a0,a1,2047", Sltiu(A0, A1, 2047), 0x7ff5b513 },
        { "xori a0,a1,-2048", Xori(A0, A1, -2048), 0x8005c513 },
        { "ori t0,t1,1365", Ori(T0, T1, 0x555), 0x55536293 },
        { "andi t2,t3,255", Andi(T2, T3, 0xff), 0x0ffe7393 },
        { "slli a0,a1,63", Slli(A0, A1, 63), 0x03f59513 },
        { "srli a0,a1,32", Srli(A0, A1, 32), 0x0205d513 },
        { "srai a0,a1,1", Srai(A0, A1, 1), 0x4015d513 },
        { "srai s2,s3,63", Srai(S2, S3, 63), 0x43f9d913 },
        { "add a0,a1,a2", Add(A0, A1, A2), 0x00c58533 },
        { "sub t0,t1,t2", Sub(T0, T1, T2), 0x407302b3 },
        { "sll s4,s5,s6", Sll(S4, S5, S6), 0x016a9a33 },
        { "slt a4,a5,a6", Slt(A4, A5, A6), 0x0107a733 },
        { "sltu a7,s2,s3", Sltu(A7, S2, S3), 0x013938b3 },
        { "xor t3,t4,t5", Xor(T3, T4, T5), 0x01eece33 },
        { "srl a0,a0,a0", Srl(A0, A0, A0), 0x00a55533 },
        { "sra t6,t6,zero", Sra(T6, T6, Zero), 0x400fdfb3 },
        { "or s8,s9,s10", Or(S8, S9, S10), 0x01acec33 },
        { "and zero,ra,sp", And(Zero, Ra, Sp), 0x0020f033 },
        { "addiw a0,a1,-1", Addiw(A0, A1, -1), 0xfff5851b },
        { "slliw a0,a1,31", Slliw(A0, A1, 31), 0x01f5951b },
        { "srliw a0,a1,1", Srliw(A0, A1, 1), 0x0015d51b },
        { "sraiw a0,a1,31", Sraiw(A0, A1, 31), 0x41f5d51b },
        { "addw a0,a1,a2", Addw(A0, A1, A2), 0x00c5853b },
        { "subw a3,a4,a5", Subw(A3, A4, A5), 0x40f706bb },
        { "sllw t0,t1,t2", Sllw(T0, T1, T2), 0x007312bb },
        { "srlw t3,t4,t5", Srlw(T3, T4, T5), 0x01eede3b },
        { "sraw s0,s1,s2", Sraw(S0, S1, S2), 0x4124d43b },
        { "mul a0,a1,a2", Mul(A0, A1, A2), 0x02c58533 },
        { "mulh a3,a4,a5", Mulh(A3, A4, A5), 0x02f716b3 },
        { "mulhsu t0,t1,t2", Mulhsu(T0, T1, T2), 0x027322b3 },
        { "mulhu t3,t4,t5", Mulhu(T3, T4, T5), 0x03eebe33 },
        { "div s0,s1,s2", Div(S0, S1, S2), 0x0324c433 },
        { "divu s3,s4,s5", Divu(S3, S4, S5), 0x035a59b3 },
        { "rem s6,s7,s8", Rem(S6, S7, S8), 0x038beb33 },
        { "remu s9,s10,s11", Remu(S9, S10, S11), 0x03bd7cb3 },
        { "mulw a0,a1,a2", Mulw(A0, A1, A2), 0x02c5853b },
        { "divw a3,a4,a5", Divw(A3, A4, A5), 0x02f746bb },
        { "divuw t0,t1,t2", Divuw(T0, T1, T2), 0x027352bb },
        { "remw t3,t4,t5", Remw(T3, T4, T5), 0x03eeee3b },
        { "remuw s0,s1,s2", Remuw(S0, S1, S2), 0x0324f43b },
        { "csrrw t0,mscratch,t1", Csrrw(T0, 0x340, T1), 0x340312f3 },
        { "csrrs a0,mstatus,zero", Csrrs(A0, 0x300, Zero), 0x30002573 },
        { "csrrc zero,mie,a1", Csrrc(Zero, 0x304, A1), 0x3045b073 },
        { "csrrwi t0,mtvec,31", Csrrwi(T0, 0x305, 31), 0x305fd2f3 },
        { "csrrsi a0,minstret,1", Csrrsi(A0, 0xb02, 1), 0xb020e573 },
        { "csrrci zero,mhartid,0", Csrrci(Zero, 0xf14, 0), 0xf1407073 },
        { "csrrw a0,0xfff,a1", Csrrw(A0, 0xfff, A1), 0xfff59573 },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Encoder_matches_the_GNU_assembler(string text, uint actual, uint expected) =>
        Assert.True(expected == actual, $"{text}: expected 0x{expected:x8}, encoded 0x{actual:x8}");

    [Theory]
    [InlineData(4096)]
    [InlineData(-4098)]
    [InlineData(3)]
    public void Branch_offsets_out_of_range_or_odd_are_refused(long offset) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Beq(A0, A1, offset));

    [Fact]
    public void Immediates_out_of_range_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Addi(A0, A0, 2048));
        Assert.Throws<ArgumentOutOfRangeException>(() => Slli(A0, A0, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => Slliw(A0, A0, 32));
        Assert.Throws<ArgumentOutOfRangeException>(() => Csrrwi(A0, 0x340, 32));
        Assert.Throws<ArgumentOutOfRangeException>(() => Add(32, A0, A0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Jal(Zero, 1 << 20));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(-1L)]
    [InlineData(2047L)]
    [InlineData(-2048L)]
    [InlineData(2048L)]
    [InlineData(-2049L)]
    [InlineData(0x12345678L)]
    [InlineData(0x7FFFF7FFL)]
    [InlineData(0x7FFFF800L)]
    [InlineData(0x7FFFFFFFL)]
    [InlineData(-0x80000000L)]
    [InlineData(0x80000000L)]
    [InlineData(0xFFFFFFFFL)]
    [InlineData(0x100000000L)]
    [InlineData(0x123456789ABCDEF0L)]
    [InlineData(unchecked((long)0xFEDCBA9876543210UL))]
    [InlineData(unchecked((long)0x8000000000000000UL))]
    [InlineData(0x7FFFFFFFFFFFFFFFL)]
    [InlineData(0x7FFFFFFFFFFFF800L)]
    [InlineData(unchecked((long)0x8000000000000FFFUL))]
    [InlineData(0x0000000100000800L)]
    [InlineData(0x5555555555555555L)]
    [InlineData(unchecked((long)0xAAAAAAAAAAAAAAAAUL))]
    public void Li_loads_any_64_bit_constant(long value)
    {
        var sequence = Li(T3, value);
        Assert.InRange(sequence.Length, 1, 8);
        Assert.Equal(unchecked((ulong)value), TestMachine.RunFor(T3, new CodeBuilder().Emit(sequence)));
    }
}
