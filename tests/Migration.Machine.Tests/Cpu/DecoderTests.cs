using Migration.Machine.RiscV.Cpu;
using static Migration.Machine.Tests.Cpu.Asm;

namespace Migration.Machine.Tests.Cpu;

public class DecoderTests
{
    // Opcode is internal, so the tables name operations by string.
    public static TheoryData<uint, string> EveryInstruction => new()
    {
        { Lui(A0, 1), "Lui" }, { Auipc(A0, 1), "Auipc" }, { Jal(Ra, 8), "Jal" }, { Jalr(Ra, A0, 0), "Jalr" },
        { Beq(A0, A1, 8), "Beq" }, { Bne(A0, A1, 8), "Bne" }, { Blt(A0, A1, 8), "Blt" },
        { Bge(A0, A1, 8), "Bge" }, { Bltu(A0, A1, 8), "Bltu" }, { Bgeu(A0, A1, 8), "Bgeu" },
        { Lb(A0, A1, 0), "Lb" }, { Lh(A0, A1, 0), "Lh" }, { Lw(A0, A1, 0), "Lw" }, { Ld(A0, A1, 0), "Ld" },
        { Lbu(A0, A1, 0), "Lbu" }, { Lhu(A0, A1, 0), "Lhu" }, { Lwu(A0, A1, 0), "Lwu" },
        { Sb(A0, A1, 0), "Sb" }, { Sh(A0, A1, 0), "Sh" }, { Sw(A0, A1, 0), "Sw" }, { Sd(A0, A1, 0), "Sd" },
        { Addi(A0, A1, 1), "Addi" }, { Slti(A0, A1, 1), "Slti" }, { Sltiu(A0, A1, 1), "Sltiu" },
        { Xori(A0, A1, 1), "Xori" }, { Ori(A0, A1, 1), "Ori" }, { Andi(A0, A1, 1), "Andi" },
        { Slli(A0, A1, 63), "Slli" }, { Srli(A0, A1, 63), "Srli" }, { Srai(A0, A1, 63), "Srai" },
        { Add(A0, A1, A2), "Add" }, { Sub(A0, A1, A2), "Sub" }, { Sll(A0, A1, A2), "Sll" },
        { Slt(A0, A1, A2), "Slt" }, { Sltu(A0, A1, A2), "Sltu" }, { Xor(A0, A1, A2), "Xor" },
        { Srl(A0, A1, A2), "Srl" }, { Sra(A0, A1, A2), "Sra" }, { Or(A0, A1, A2), "Or" }, { And(A0, A1, A2), "And" },
        { Addiw(A0, A1, 1), "Addiw" }, { Slliw(A0, A1, 31), "Slliw" }, { Srliw(A0, A1, 31), "Srliw" }, { Sraiw(A0, A1, 31), "Sraiw" },
        { Addw(A0, A1, A2), "Addw" }, { Subw(A0, A1, A2), "Subw" }, { Sllw(A0, A1, A2), "Sllw" },
        { Srlw(A0, A1, A2), "Srlw" }, { Sraw(A0, A1, A2), "Sraw" },
        { Mul(A0, A1, A2), "Mul" }, { Mulh(A0, A1, A2), "Mulh" }, { Mulhsu(A0, A1, A2), "Mulhsu" },
        { Mulhu(A0, A1, A2), "Mulhu" }, { Div(A0, A1, A2), "Div" }, { Divu(A0, A1, A2), "Divu" },
        { Rem(A0, A1, A2), "Rem" }, { Remu(A0, A1, A2), "Remu" },
        { Mulw(A0, A1, A2), "Mulw" }, { Divw(A0, A1, A2), "Divw" }, { Divuw(A0, A1, A2), "Divuw" },
        { Remw(A0, A1, A2), "Remw" }, { Remuw(A0, A1, A2), "Remuw" },
        { Fence(), "Fence" }, { Fence(0b0011, 0b0001), "Fence" }, { FenceI(), "FenceI" },
        { Ecall(), "Ecall" }, { Ebreak(), "Ebreak" }, { Mret(), "Mret" }, { Wfi(), "Wfi" },
        { Csrrw(A0, 0x340, A1), "Csrrw" }, { Csrrs(A0, 0x340, A1), "Csrrs" }, { Csrrc(A0, 0x340, A1), "Csrrc" },
        { Csrrwi(A0, 0x340, 1), "Csrrwi" }, { Csrrsi(A0, 0x340, 1), "Csrrsi" }, { Csrrci(A0, 0x340, 1), "Csrrci" },
    };

    [Theory]
    [MemberData(nameof(EveryInstruction))]
    public void Every_instruction_decodes_to_its_operation(uint word, string op) =>
        Assert.Equal(op, InstructionDecoder.Decode(word).Op.ToString());

    [Theory]
    [InlineData(0x0000_0000u)]   // defined illegal in the C extension
    [InlineData(0x0000_0001u)]   // c.nop
    [InlineData(0x0000_4501u)]   // c.li a0,0
    [InlineData(0x0000_8082u)]   // c.ret
    [InlineData(0x0251_3ACDu)]   // low bits 01 under a 32-bit-looking upper half
    [InlineData(0xFFFF_FFFCu)]
    [InlineData(0x1234_567Au)]
    public void Compressed_encodings_are_illegal(uint word) => AssertIllegal(word);

    [Theory]
    [InlineData(0x0000_2063u)]   // BRANCH funct3 2
    [InlineData(0x0000_3063u)]   // BRANCH funct3 3
    [InlineData(0x0000_7003u)]   // LOAD funct3 7
    [InlineData(0x0000_4023u)]   // STORE funct3 4
    [InlineData(0x0000_7023u)]   // STORE funct3 7
    [InlineData(0x0000_1067u)]   // JALR funct3 1
    [InlineData(0x4000_1033u)]   // OP funct7 0x20 with sll
    [InlineData(0x4000_2033u)]   // OP funct7 0x20 with slt
    [InlineData(0x0400_0033u)]   // OP funct7 2
    [InlineData(0x0200_103Bu)]   // OP-32 funct7 1 funct3 1
    [InlineData(0x0000_203Bu)]   // OP-32 funct3 2
    [InlineData(0x4000_403Bu)]   // OP-32 funct7 0x20 funct3 4
    [InlineData(0x0400_1013u)]   // slli with bit 26 set
    [InlineData(0x4400_5013u)]   // srai with bit 26 set
    [InlineData(0x2000_5013u)]   // srli with bit 29 set
    [InlineData(0x0200_101Bu)]   // slliw with shamt[5]
    [InlineData(0x0200_501Bu)]   // srliw with shamt[5]
    [InlineData(0x4200_501Bu)]   // sraiw with shamt[5]
    [InlineData(0x0000_201Bu)]   // OP-IMM-32 funct3 2
    [InlineData(0x0000_200Fu)]   // MISC-MEM funct3 2
    [InlineData(0x0000_4073u)]   // SYSTEM funct3 4
    [InlineData(0x0000_00F3u)]   // ecall with rd = ra
    [InlineData(0x0010_8073u)]   // ebreak with rs1 = ra
    [InlineData(0x0020_0073u)]   // uret
    [InlineData(0x1020_0073u)]   // sret
    [InlineData(0x1200_0073u)]   // sfence.vma
    [InlineData(0x7B20_0073u)]   // dret
    [InlineData(0x0000_2007u)]   // flw (no F extension)
    [InlineData(0x0000_202Fu)]   // amoadd.w (no A extension)
    [InlineData(0x0000_001Fu)]   // 48-bit encoding prefix
    [InlineData(0x0000_007Fu)]   // 80-bit and longer prefix
    [InlineData(0x0000_005Bu)]   // custom-2
    [InlineData(0xFFFF_FFFFu)]
    public void Reserved_encodings_are_illegal(uint word) => AssertIllegal(word);

    [Fact]
    public void Addi_fields()
    {
        var d = InstructionDecoder.Decode(0x02A0_0513); // addi a0, zero, 42
        Assert.Equal("Addi", d.Op.ToString());
        Assert.Equal(A0, d.Rd);
        Assert.Equal(Zero, d.Rs1);
        Assert.Equal(42, d.Imm);
    }

    [Fact]
    public void A_destination_of_x0_decodes_to_the_discard_slot()
    {
        Assert.Equal(InstructionDecoder.DiscardRegister, InstructionDecoder.Decode(Add(Zero, A0, A1)).Rd);
        Assert.Equal(InstructionDecoder.DiscardRegister, InstructionDecoder.Decode(Ret()).Rd);
        Assert.Equal(32, InstructionDecoder.DiscardRegister);
    }

    [Fact]
    public void Store_fields_split_the_immediate()
    {
        var d = InstructionDecoder.Decode(Sd(A1, Sp, -8));
        Assert.Equal("Sd", d.Op.ToString());
        Assert.Equal(Sp, d.Rs1);
        Assert.Equal(A1, d.Rs2);
        Assert.Equal(-8, d.Imm);
    }

    [Theory]
    [InlineData(4094)]
    [InlineData(-4096)]
    [InlineData(2048)]
    [InlineData(-2)]
    [InlineData(0)]
    public void Branch_offsets_decode_sign_extended(int offset)
    {
        var d = InstructionDecoder.Decode(Bltu(T0, T1, offset));
        Assert.Equal((T0, T1, offset), (d.Rs1, d.Rs2, d.Imm));
    }

    [Theory]
    [InlineData(1048574)]
    [InlineData(-1048576)]
    [InlineData(2048)]
    [InlineData(-2)]
    public void Jump_offsets_decode_sign_extended(int offset)
    {
        var d = InstructionDecoder.Decode(Jal(Ra, offset));
        Assert.Equal((Ra, offset), (d.Rd, d.Imm));
    }

    [Theory]
    [InlineData(2047)]
    [InlineData(-2048)]
    [InlineData(-1)]
    public void I_type_immediates_decode_sign_extended(int imm)
    {
        Assert.Equal(imm, InstructionDecoder.Decode(Jalr(Ra, T0, imm)).Imm);
        Assert.Equal(imm, InstructionDecoder.Decode(Lw(A0, T0, imm)).Imm);
        Assert.Equal(imm, InstructionDecoder.Decode(Sw(A0, T0, imm)).Imm);
    }

    [Fact]
    public void Upper_immediates_keep_bits_31_to_12()
    {
        Assert.Equal(unchecked((int)0x8000_0000), InstructionDecoder.Decode(Lui(A0, 0x80000)).Imm);
        Assert.Equal(unchecked((int)0xFFFF_F000), InstructionDecoder.Decode(Auipc(A0, 0xFFFFF)).Imm);
        Assert.Equal(0x1234_5000, InstructionDecoder.Decode(Lui(A0, 0x12345)).Imm);
    }

    [Fact]
    public void Shift_amounts_are_decoded_without_the_function_bits()
    {
        Assert.Equal(63, InstructionDecoder.Decode(Srai(A0, A1, 63)).Imm);
        Assert.Equal(31, InstructionDecoder.Decode(Sraiw(A0, A1, 31)).Imm);
        Assert.Equal(32, InstructionDecoder.Decode(Srli(A0, A1, 32)).Imm);
    }

    [Fact]
    public void Csr_fields_hold_the_csr_number_and_the_immediate_in_rs1()
    {
        var rw = InstructionDecoder.Decode(Csrrw(T0, 0xF14, T1));
        Assert.Equal(("Csrrw", T0, T1, 0xF14), (rw.Op.ToString(), rw.Rd, rw.Rs1, rw.Imm));
        var wi = InstructionDecoder.Decode(Csrrwi(T0, 0x340, 31));
        Assert.Equal(("Csrrwi", 31, 0x340), (wi.Op.ToString(), wi.Rs1, wi.Imm));
    }

    private static void AssertIllegal(uint word)
    {
        var d = InstructionDecoder.Decode(word);
        Assert.True(d.Op == Opcode.Illegal, $"0x{word:x8} decoded as {d.Op}");
        // The raw word is kept for mtval.
        Assert.Equal(word, (uint)d.Imm);
    }
}
