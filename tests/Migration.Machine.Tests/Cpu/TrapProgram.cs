using static Migration.Machine.Tests.Cpu.Asm;

namespace Migration.Machine.Tests.Cpu;

internal static class CsrAddress
{
    public const int Mstatus = 0x300, Misa = 0x301, Mie = 0x304, Mtvec = 0x305;
    public const int Mscratch = 0x340, Mepc = 0x341, Mcause = 0x342, Mtval = 0x343, Mip = 0x344;
    public const int Mcycle = 0xB00, Minstret = 0xB02, Cycle = 0xC00, Time = 0xC01, Instret = 0xC02;
    public const int Mvendorid = 0xF11, Marchid = 0xF12, Mimpid = 0xF13, Mhartid = 0xF14;
    public const int Satp = 0x180, Pmpcfg0 = 0x3A0, Medeleg = 0x302;
}

/// <summary>
/// A program with a trap handler that records mcause, mepc, mtval and mstatus in saved registers, counts
/// traps, and resumes after the trapping instruction. The body runs between <see cref="Begin"/> and
/// <see cref="End"/>; it must leave S2–S6, T5 and T6 alone.
/// </summary>
internal static class TrapProgram
{
    public const int Cause = S2, Epc = S3, Tval = S4, Status = S5, Count = S6;
    public const string Handler = "trap_handler";

    /// <summary>Instructions the handler retires per trap, mret included.</summary>
    public const int HandlerLength = 9;

    public static CodeBuilder Begin() =>
        new CodeBuilder().La(T6, Handler).Emit(Csrw(CsrAddress.Mtvec, T6));

    /// <summary>Clears mtvec, so the final ecall is the exit hypercall again, and appends the handler.</summary>
    public static CodeBuilder End(this CodeBuilder code, long exitCode = 0) =>
        code.Emit(Csrw(CsrAddress.Mtvec, Zero)).Exit(exitCode)
            .Label(Handler)
            .Emit(
                Csrr(Cause, CsrAddress.Mcause),
                Csrr(Epc, CsrAddress.Mepc),
                Csrr(Tval, CsrAddress.Mtval),
                Csrr(Status, CsrAddress.Mstatus),
                Addi(Count, Count, 1),
                Csrr(T5, CsrAddress.Mepc),
                Addi(T5, T5, 4),
                Csrw(CsrAddress.Mepc, T5),
                Mret());

    /// <summary>Runs a body under the handler and checks that exactly one trap was taken.</summary>
    public static TestMachine RunExpectingOneTrap(CodeBuilder body) => RunExpecting(body, 1);

    public static TestMachine RunExpectingNoTrap(CodeBuilder body) => RunExpecting(body, 0);

    private static TestMachine RunExpecting(CodeBuilder body, ulong traps)
    {
        var machine = TestMachine.Run(body.End());
        try
        {
            machine.AssertExited(0);
            Assert.Equal(traps, machine[Count]);
            return machine;
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }
}
