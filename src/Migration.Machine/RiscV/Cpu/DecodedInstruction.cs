using System.Runtime.InteropServices;

namespace Migration.Machine.RiscV.Cpu;

/// <summary>
/// An instruction decoded once into 8 bytes. Register indices are 0–31, except that a destination of
/// <c>x0</c> is stored as <see cref="InstructionDecoder.DiscardRegister"/>, a scratch slot, so the hot loop
/// writes results without testing for x0.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct DecodedInstruction
{
    public Opcode Op;
    public byte Rd;
    public byte Rs1;
    public byte Rs2;

    /// <summary>Sign-extended immediate; the CSR number for CSR instructions; the raw word for <see cref="Opcode.Illegal"/>.</summary>
    public int Imm;
}
