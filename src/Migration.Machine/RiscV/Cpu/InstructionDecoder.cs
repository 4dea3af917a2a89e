namespace Migration.Machine.RiscV.Cpu;

/// <summary>Decodes 32-bit RV64IM + Zicsr instruction words; anything else decodes to <see cref="Opcode.Illegal"/>.</summary>
internal static class InstructionDecoder
{
    /// <summary>Register-file slot that absorbs writes to x0.</summary>
    public const byte DiscardRegister = 32;

    public static DecodedInstruction Decode(uint word)
    {
        var rd = (byte)((word >> 7) & 31);
        var rs1 = (byte)((word >> 15) & 31);
        var rs2 = (byte)((word >> 20) & 31);
        var funct3 = (word >> 12) & 7;
        var funct7 = word >> 25;
        var immI = (int)word >> 20;

        if ((word & 3) != 3)
        {
            // Compressed encodings: the machine has no C extension.
            return Illegal(word);
        }

        switch ((word >> 2) & 31)
        {
            case 0x0D: // LUI
                return Make(Opcode.Lui, rd, 0, 0, (int)(word & 0xFFFFF000));
            case 0x05: // AUIPC
                return Make(Opcode.Auipc, rd, 0, 0, (int)(word & 0xFFFFF000));
            case 0x1B: // JAL
                return Make(Opcode.Jal, rd, 0, 0, JumpImmediate(word));
            case 0x19: // JALR
                return funct3 == 0 ? Make(Opcode.Jalr, rd, rs1, 0, immI) : Illegal(word);
            case 0x18: // BRANCH
                {
                    var op = funct3 switch
                    {
                        0 => Opcode.Beq,
                        1 => Opcode.Bne,
                        4 => Opcode.Blt,
                        5 => Opcode.Bge,
                        6 => Opcode.Bltu,
                        7 => Opcode.Bgeu,
                        _ => Opcode.Illegal,
                    };
                    return op == Opcode.Illegal ? Illegal(word) : Make(op, 0, rs1, rs2, BranchImmediate(word));
                }

            case 0x00: // LOAD
                {
                    var op = funct3 switch
                    {
                        0 => Opcode.Lb,
                        1 => Opcode.Lh,
                        2 => Opcode.Lw,
                        3 => Opcode.Ld,
                        4 => Opcode.Lbu,
                        5 => Opcode.Lhu,
                        6 => Opcode.Lwu,
                        _ => Opcode.Illegal,
                    };
                    return op == Opcode.Illegal ? Illegal(word) : Make(op, rd, rs1, 0, immI);
                }

            case 0x08: // STORE
                {
                    var op = funct3 switch
                    {
                        0 => Opcode.Sb,
                        1 => Opcode.Sh,
                        2 => Opcode.Sw,
                        3 => Opcode.Sd,
                        _ => Opcode.Illegal,
                    };
                    var imm = ((int)(word & 0xFE000000) >> 20) | (int)((word >> 7) & 31);
                    return op == Opcode.Illegal ? Illegal(word) : new DecodedInstruction { Op = op, Rs1 = rs1, Rs2 = rs2, Imm = imm };
                }

            case 0x04: // OP-IMM
                return DecodeOpImm(word, rd, rs1, funct3, immI);
            case 0x06: // OP-IMM-32
                return DecodeOpImm32(word, rd, rs1, funct3, funct7, immI);
            case 0x0C: // OP
                return DecodeOp(word, rd, rs1, rs2, funct3, funct7);
            case 0x0E: // OP-32
                return DecodeOp32(word, rd, rs1, rs2, funct3, funct7);
            case 0x03: // MISC-MEM
                return funct3 switch
                {
                    0 => Make(Opcode.Fence, 0, 0, 0, 0),
                    1 => Make(Opcode.FenceI, 0, 0, 0, 0),
                    _ => Illegal(word),
                };
            case 0x1C: // SYSTEM
                return DecodeSystem(word, rd, rs1, funct3);
            default:
                return Illegal(word);
        }
    }

    private static DecodedInstruction DecodeOpImm(uint word, byte rd, byte rs1, uint funct3, int immI)
    {
        var shamt = (int)((word >> 20) & 63);
        var high6 = word >> 26;
        return funct3 switch
        {
            0 => Make(Opcode.Addi, rd, rs1, 0, immI),
            2 => Make(Opcode.Slti, rd, rs1, 0, immI),
            3 => Make(Opcode.Sltiu, rd, rs1, 0, immI),
            4 => Make(Opcode.Xori, rd, rs1, 0, immI),
            6 => Make(Opcode.Ori, rd, rs1, 0, immI),
            7 => Make(Opcode.Andi, rd, rs1, 0, immI),
            1 when high6 == 0 => Make(Opcode.Slli, rd, rs1, 0, shamt),
            5 when high6 == 0 => Make(Opcode.Srli, rd, rs1, 0, shamt),
            5 when high6 == 0x10 => Make(Opcode.Srai, rd, rs1, 0, shamt),
            _ => Illegal(word),
        };
    }

    private static DecodedInstruction DecodeOpImm32(uint word, byte rd, byte rs1, uint funct3, uint funct7, int immI)
    {
        var shamt = (int)((word >> 20) & 31);
        return funct3 switch
        {
            0 => Make(Opcode.Addiw, rd, rs1, 0, immI),
            1 when funct7 == 0 => Make(Opcode.Slliw, rd, rs1, 0, shamt),
            5 when funct7 == 0 => Make(Opcode.Srliw, rd, rs1, 0, shamt),
            5 when funct7 == 0x20 => Make(Opcode.Sraiw, rd, rs1, 0, shamt),
            _ => Illegal(word),
        };
    }

    private static DecodedInstruction DecodeOp(uint word, byte rd, byte rs1, byte rs2, uint funct3, uint funct7)
    {
        var op = (funct7, funct3) switch
        {
            (0, 0) => Opcode.Add,
            (0x20, 0) => Opcode.Sub,
            (0, 1) => Opcode.Sll,
            (0, 2) => Opcode.Slt,
            (0, 3) => Opcode.Sltu,
            (0, 4) => Opcode.Xor,
            (0, 5) => Opcode.Srl,
            (0x20, 5) => Opcode.Sra,
            (0, 6) => Opcode.Or,
            (0, 7) => Opcode.And,
            (1, 0) => Opcode.Mul,
            (1, 1) => Opcode.Mulh,
            (1, 2) => Opcode.Mulhsu,
            (1, 3) => Opcode.Mulhu,
            (1, 4) => Opcode.Div,
            (1, 5) => Opcode.Divu,
            (1, 6) => Opcode.Rem,
            (1, 7) => Opcode.Remu,
            _ => Opcode.Illegal,
        };
        return op == Opcode.Illegal ? Illegal(word) : Make(op, rd, rs1, rs2, 0);
    }

    private static DecodedInstruction DecodeOp32(uint word, byte rd, byte rs1, byte rs2, uint funct3, uint funct7)
    {
        var op = (funct7, funct3) switch
        {
            (0, 0) => Opcode.Addw,
            (0x20, 0) => Opcode.Subw,
            (0, 1) => Opcode.Sllw,
            (0, 5) => Opcode.Srlw,
            (0x20, 5) => Opcode.Sraw,
            (1, 0) => Opcode.Mulw,
            (1, 4) => Opcode.Divw,
            (1, 5) => Opcode.Divuw,
            (1, 6) => Opcode.Remw,
            (1, 7) => Opcode.Remuw,
            _ => Opcode.Illegal,
        };
        return op == Opcode.Illegal ? Illegal(word) : Make(op, rd, rs1, rs2, 0);
    }

    private static DecodedInstruction DecodeSystem(uint word, byte rd, byte rs1, uint funct3)
    {
        var csr = (int)(word >> 20);
        switch (funct3)
        {
            case 0:
                if (rd != 0 || rs1 != 0)
                {
                    return Illegal(word);
                }

                return word switch
                {
                    0x00000073 => Make(Opcode.Ecall, 0, 0, 0, 0),
                    0x00100073 => Make(Opcode.Ebreak, 0, 0, 0, 0),
                    0x30200073 => Make(Opcode.Mret, 0, 0, 0, 0),
                    0x10500073 => Make(Opcode.Wfi, 0, 0, 0, 0),
                    _ => Illegal(word),
                };
            case 1: return Make(Opcode.Csrrw, rd, rs1, 0, csr);
            case 2: return Make(Opcode.Csrrs, rd, rs1, 0, csr);
            case 3: return Make(Opcode.Csrrc, rd, rs1, 0, csr);
            case 5: return Make(Opcode.Csrrwi, rd, rs1, 0, csr);
            case 6: return Make(Opcode.Csrrsi, rd, rs1, 0, csr);
            case 7: return Make(Opcode.Csrrci, rd, rs1, 0, csr);
            default: return Illegal(word);
        }
    }

    private static int JumpImmediate(uint w) =>
        ((int)(w & 0x80000000) >> 11)      // imm[20]
        | (int)(w & 0x000FF000)             // imm[19:12]
        | (int)((w >> 9) & 0x800)           // imm[11]
        | (int)((w >> 20) & 0x7FE);         // imm[10:1]

    private static int BranchImmediate(uint w) =>
        ((int)(w & 0x80000000) >> 19)      // imm[12]
        | (int)((w << 4) & 0x800)           // imm[11]
        | (int)((w >> 20) & 0x7E0)          // imm[10:5]
        | (int)((w >> 7) & 0x1E);           // imm[4:1]

    private static DecodedInstruction Make(Opcode op, byte rd, byte rs1, byte rs2, int imm) =>
        new() { Op = op, Rd = rd == 0 ? DiscardRegister : rd, Rs1 = rs1, Rs2 = rs2, Imm = imm };

    private static DecodedInstruction Illegal(uint word) => new() { Op = Opcode.Illegal, Imm = (int)word };
}

