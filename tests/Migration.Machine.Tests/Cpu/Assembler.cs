using System.Numerics;

namespace Migration.Machine.Tests.Cpu;

/// <summary>
/// An RV64IM + Zicsr encoder for building test programs in memory. Operand ranges are checked so that a
/// mistake in a test fails loudly instead of encoding a different instruction.
/// </summary>
internal static class Asm
{
    public const int Zero = 0, Ra = 1, Sp = 2, Gp = 3, Tp = 4, T0 = 5, T1 = 6, T2 = 7;
    public const int S0 = 8, S1 = 9, A0 = 10, A1 = 11, A2 = 12, A3 = 13, A4 = 14, A5 = 15, A6 = 16, A7 = 17;
    public const int S2 = 18, S3 = 19, S4 = 20, S5 = 21, S6 = 22, S7 = 23, S8 = 24, S9 = 25, S10 = 26, S11 = 27;
    public const int T3 = 28, T4 = 29, T5 = 30, T6 = 31;

    private const uint OpLoad = 0x03, OpMiscMem = 0x0F, OpImm = 0x13, OpAuipc = 0x17, OpImm32 = 0x1B;
    private const uint OpStore = 0x23, OpReg = 0x33, OpLui = 0x37, OpReg32 = 0x3B, OpBranch = 0x63;
    private const uint OpJalr = 0x67, OpJal = 0x6F, OpSystem = 0x73;

    // RV64I: upper immediates and jumps
    public static uint Lui(int rd, int imm20) => U(imm20, rd, OpLui);

    public static uint Auipc(int rd, int imm20) => U(imm20, rd, OpAuipc);

    public static uint Jal(int rd, long offset) => J(offset, rd);

    public static uint Jalr(int rd, int rs1, int imm) => I(imm, rs1, 0, rd, OpJalr);

    // RV64I: branches
    public static uint Beq(int rs1, int rs2, long offset) => B(offset, rs2, rs1, 0);

    public static uint Bne(int rs1, int rs2, long offset) => B(offset, rs2, rs1, 1);

    public static uint Blt(int rs1, int rs2, long offset) => B(offset, rs2, rs1, 4);

    public static uint Bge(int rs1, int rs2, long offset) => B(offset, rs2, rs1, 5);

    public static uint Bltu(int rs1, int rs2, long offset) => B(offset, rs2, rs1, 6);

    public static uint Bgeu(int rs1, int rs2, long offset) => B(offset, rs2, rs1, 7);

    // RV64I: loads and stores
    public static uint Lb(int rd, int rs1, int imm) => I(imm, rs1, 0, rd, OpLoad);

    public static uint Lh(int rd, int rs1, int imm) => I(imm, rs1, 1, rd, OpLoad);

    public static uint Lw(int rd, int rs1, int imm) => I(imm, rs1, 2, rd, OpLoad);

    public static uint Ld(int rd, int rs1, int imm) => I(imm, rs1, 3, rd, OpLoad);

    public static uint Lbu(int rd, int rs1, int imm) => I(imm, rs1, 4, rd, OpLoad);

    public static uint Lhu(int rd, int rs1, int imm) => I(imm, rs1, 5, rd, OpLoad);

    public static uint Lwu(int rd, int rs1, int imm) => I(imm, rs1, 6, rd, OpLoad);

    public static uint Sb(int rs2, int rs1, int imm) => S(imm, rs2, rs1, 0);

    public static uint Sh(int rs2, int rs1, int imm) => S(imm, rs2, rs1, 1);

    public static uint Sw(int rs2, int rs1, int imm) => S(imm, rs2, rs1, 2);

    public static uint Sd(int rs2, int rs1, int imm) => S(imm, rs2, rs1, 3);

    // RV64I: register-immediate
    public static uint Addi(int rd, int rs1, int imm) => I(imm, rs1, 0, rd, OpImm);

    public static uint Slti(int rd, int rs1, int imm) => I(imm, rs1, 2, rd, OpImm);

    public static uint Sltiu(int rd, int rs1, int imm) => I(imm, rs1, 3, rd, OpImm);

    public static uint Xori(int rd, int rs1, int imm) => I(imm, rs1, 4, rd, OpImm);

    public static uint Ori(int rd, int rs1, int imm) => I(imm, rs1, 6, rd, OpImm);

    public static uint Andi(int rd, int rs1, int imm) => I(imm, rs1, 7, rd, OpImm);

    public static uint Slli(int rd, int rs1, int shamt) => I(Shamt(shamt, 63), rs1, 1, rd, OpImm);

    public static uint Srli(int rd, int rs1, int shamt) => I(Shamt(shamt, 63), rs1, 5, rd, OpImm);

    public static uint Srai(int rd, int rs1, int shamt) => I(Shamt(shamt, 63) | 0x400, rs1, 5, rd, OpImm);

    // RV64I: register-register
    public static uint Add(int rd, int rs1, int rs2) => R(0x00, rs2, rs1, 0, rd, OpReg);

    public static uint Sub(int rd, int rs1, int rs2) => R(0x20, rs2, rs1, 0, rd, OpReg);

    public static uint Sll(int rd, int rs1, int rs2) => R(0x00, rs2, rs1, 1, rd, OpReg);

    public static uint Slt(int rd, int rs1, int rs2) => R(0x00, rs2, rs1, 2, rd, OpReg);

    public static uint Sltu(int rd, int rs1, int rs2) => R(0x00, rs2, rs1, 3, rd, OpReg);

    public static uint Xor(int rd, int rs1, int rs2) => R(0x00, rs2, rs1, 4, rd, OpReg);

    public static uint Srl(int rd, int rs1, int rs2) => R(0x00, rs2, rs1, 5, rd, OpReg);

    public static uint Sra(int rd, int rs1, int rs2) => R(0x20, rs2, rs1, 5, rd, OpReg);

    public static uint Or(int rd, int rs1, int rs2) => R(0x00, rs2, rs1, 6, rd, OpReg);

    public static uint And(int rd, int rs1, int rs2) => R(0x00, rs2, rs1, 7, rd, OpReg);

    // RV64I: 32-bit operations
    public static uint Addiw(int rd, int rs1, int imm) => I(imm, rs1, 0, rd, OpImm32);

    public static uint Slliw(int rd, int rs1, int shamt) => I(Shamt(shamt, 31), rs1, 1, rd, OpImm32);

    public static uint Srliw(int rd, int rs1, int shamt) => I(Shamt(shamt, 31), rs1, 5, rd, OpImm32);

    public static uint Sraiw(int rd, int rs1, int shamt) => I(Shamt(shamt, 31) | 0x400, rs1, 5, rd, OpImm32);

    public static uint Addw(int rd, int rs1, int rs2) => R(0x00, rs2, rs1, 0, rd, OpReg32);

    public static uint Subw(int rd, int rs1, int rs2) => R(0x20, rs2, rs1, 0, rd, OpReg32);

    public static uint Sllw(int rd, int rs1, int rs2) => R(0x00, rs2, rs1, 1, rd, OpReg32);

    public static uint Srlw(int rd, int rs1, int rs2) => R(0x00, rs2, rs1, 5, rd, OpReg32);

    public static uint Sraw(int rd, int rs1, int rs2) => R(0x20, rs2, rs1, 5, rd, OpReg32);

    // RV64M
    public static uint Mul(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 0, rd, OpReg);

    public static uint Mulh(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 1, rd, OpReg);

    public static uint Mulhsu(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 2, rd, OpReg);

    public static uint Mulhu(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 3, rd, OpReg);

    public static uint Div(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 4, rd, OpReg);

    public static uint Divu(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 5, rd, OpReg);

    public static uint Rem(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 6, rd, OpReg);

    public static uint Remu(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 7, rd, OpReg);

    public static uint Mulw(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 0, rd, OpReg32);

    public static uint Divw(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 4, rd, OpReg32);

    public static uint Divuw(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 5, rd, OpReg32);

    public static uint Remw(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 6, rd, OpReg32);

    public static uint Remuw(int rd, int rs1, int rs2) => R(0x01, rs2, rs1, 7, rd, OpReg32);

    // Memory ordering and system
    /// <param name="predecessor">I, O, R, W as bits 3..0, as in the encoding.</param>
    public static uint Fence(int predecessor = 0xF, int successor = 0xF)
    {
        CheckRange(predecessor, 0, 15, nameof(predecessor));
        CheckRange(successor, 0, 15, nameof(successor));
        return ((uint)predecessor << 24) | ((uint)successor << 20) | OpMiscMem;
    }

    public static uint FenceI() => (1u << 12) | OpMiscMem;

    public static uint Ecall() => OpSystem;

    public static uint Ebreak() => (1u << 20) | OpSystem;

    public static uint Mret() => (0x302u << 20) | OpSystem;

    public static uint Wfi() => (0x105u << 20) | OpSystem;

    // Zicsr
    public static uint Csrrw(int rd, int csr, int rs1) => Csr(csr, rs1, 1, rd);

    public static uint Csrrs(int rd, int csr, int rs1) => Csr(csr, rs1, 2, rd);

    public static uint Csrrc(int rd, int csr, int rs1) => Csr(csr, rs1, 3, rd);

    public static uint Csrrwi(int rd, int csr, int uimm) => Csr(csr, Uimm5(uimm), 5, rd);

    public static uint Csrrsi(int rd, int csr, int uimm) => Csr(csr, Uimm5(uimm), 6, rd);

    public static uint Csrrci(int rd, int csr, int uimm) => Csr(csr, Uimm5(uimm), 7, rd);

    // Pseudo-instructions
    public static uint Nop() => Addi(Zero, Zero, 0);

    public static uint Mv(int rd, int rs) => Addi(rd, rs, 0);

    public static uint J(long offset) => Jal(Zero, offset);

    public static uint Ret() => Jalr(Zero, Ra, 0);

    public static uint Csrr(int rd, int csr) => Csrrs(rd, csr, Zero);

    public static uint Csrw(int csr, int rs1) => Csrrw(Zero, csr, rs1);

    /// <summary>Loads any 64-bit constant in at most eight instructions.</summary>
    public static uint[] Li(int rd, long value)
    {
        var words = new List<uint>();
        EmitLi(words, rd, value);
        return [.. words];
    }

    private static void EmitLi(List<uint> words, int rd, long value)
    {
        if (value == (int)value)
        {
            // lui loads bits 31:12 sign-extended; addiw wraps in 32 bits, which covers 0x7FFFF800..0x7FFFFFFF.
            var lo12 = SignExtend12(value);
            var hi20 = (int)(((value - lo12) >> 12) & 0xFFFFF);
            if (hi20 == 0)
            {
                words.Add(Addi(rd, Zero, (int)lo12));
                return;
            }

            words.Add(Lui(rd, hi20));
            if (lo12 != 0)
            {
                words.Add(Addiw(rd, rd, (int)lo12));
            }

            return;
        }

        // Build the value without its low 12 bits, shifted right as far as possible, then shift and add them back.
        // Everything is modulo 2^64, so the subtraction may wrap without harm.
        var low = SignExtend12(value);
        var high = unchecked(value - low) >> 12;
        var zeros = BitOperations.TrailingZeroCount(high);
        EmitLi(words, rd, high >> zeros);
        words.Add(Slli(rd, rd, 12 + zeros));
        if (low != 0)
        {
            words.Add(Addi(rd, rd, (int)low));
        }
    }

    private static long SignExtend12(long value) => ((value & 0xFFF) ^ 0x800) - 0x800;

    private static uint R(uint funct7, int rs2, int rs1, uint funct3, int rd, uint opcode) =>
        (funct7 << 25) | (Reg(rs2) << 20) | (Reg(rs1) << 15) | (funct3 << 12) | (Reg(rd) << 7) | opcode;

    private static uint I(int imm, int rs1, uint funct3, int rd, uint opcode)
    {
        CheckRange(imm, -2048, 2047, nameof(imm));
        return ((uint)(imm & 0xFFF) << 20) | (Reg(rs1) << 15) | (funct3 << 12) | (Reg(rd) << 7) | opcode;
    }

    private static uint S(int imm, int rs2, int rs1, uint funct3)
    {
        CheckRange(imm, -2048, 2047, nameof(imm));
        var u = (uint)imm;
        return (((u >> 5) & 0x7F) << 25) | (Reg(rs2) << 20) | (Reg(rs1) << 15) | (funct3 << 12) | ((u & 0x1F) << 7) | OpStore;
    }

    private static uint B(long offset, int rs2, int rs1, uint funct3)
    {
        CheckRange(offset, -4096, 4094, nameof(offset));
        CheckEven(offset);
        var u = (uint)offset;
        return (((u >> 12) & 1) << 31) | (((u >> 5) & 0x3F) << 25) | (Reg(rs2) << 20) | (Reg(rs1) << 15)
            | (funct3 << 12) | (((u >> 1) & 0xF) << 8) | (((u >> 11) & 1) << 7) | OpBranch;
    }

    private static uint U(int imm20, int rd, uint opcode)
    {
        // Accept both the unsigned field value (0..0xFFFFF) and its signed reading (-0x80000..-1).
        CheckRange(imm20, -0x80000, 0xFFFFF, nameof(imm20));
        return ((uint)(imm20 & 0xFFFFF) << 12) | (Reg(rd) << 7) | opcode;
    }

    private static uint J(long offset, int rd)
    {
        CheckRange(offset, -(1 << 20), (1 << 20) - 2, nameof(offset));
        CheckEven(offset);
        var u = (uint)offset;
        return (((u >> 20) & 1) << 31) | (((u >> 1) & 0x3FF) << 21) | (((u >> 11) & 1) << 20)
            | (((u >> 12) & 0xFF) << 12) | (Reg(rd) << 7) | OpJal;
    }

    private static uint Csr(int csr, int rs1OrUimm, uint funct3, int rd)
    {
        CheckRange(csr, 0, 0xFFF, nameof(csr));
        return ((uint)csr << 20) | (Reg(rs1OrUimm) << 15) | (funct3 << 12) | (Reg(rd) << 7) | OpSystem;
    }

    private static int Shamt(int shamt, int max)
    {
        CheckRange(shamt, 0, max, nameof(shamt));
        return shamt;
    }

    private static int Uimm5(int uimm)
    {
        CheckRange(uimm, 0, 31, nameof(uimm));
        return uimm;
    }

    private static uint Reg(int register)
    {
        CheckRange(register, 0, 31, nameof(register));
        return (uint)register;
    }

    private static void CheckRange(long value, long min, long max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"must be in {min}..{max}");
        }
    }

    private static void CheckEven(long offset)
    {
        if ((offset & 1) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "branch and jump offsets are multiples of 2");
        }
    }
}
