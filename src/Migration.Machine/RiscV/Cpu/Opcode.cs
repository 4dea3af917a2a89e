namespace Migration.Machine.RiscV.Cpu;

/// <summary>The operation of a pre-decoded instruction; the interpreter switches on this byte.</summary>
internal enum Opcode : byte
{
    /// <summary>Not a valid RV64IM/Zicsr instruction; the raw word is kept in the immediate for mtval.</summary>
    Illegal = 0,
    Lui, Auipc, Jal, Jalr,
    Beq, Bne, Blt, Bge, Bltu, Bgeu,
    Lb, Lh, Lw, Ld, Lbu, Lhu, Lwu,
    Sb, Sh, Sw, Sd,
    Addi, Slti, Sltiu, Xori, Ori, Andi, Slli, Srli, Srai,
    Add, Sub, Sll, Slt, Sltu, Xor, Srl, Sra, Or, And,
    Addiw, Slliw, Srliw, Sraiw,
    Addw, Subw, Sllw, Srlw, Sraw,
    Mul, Mulh, Mulhsu, Mulhu, Div, Divu, Rem, Remu,
    Mulw, Divw, Divuw, Remw, Remuw,
    Fence,
    FenceI, Ecall, Ebreak, Mret, Wfi,
    Csrrw, Csrrs, Csrrc, Csrrwi, Csrrsi, Csrrci,

    /// <summary>The slot after a page's last instruction: execution falls through into the next page.</summary>
    PageEnd,
}
