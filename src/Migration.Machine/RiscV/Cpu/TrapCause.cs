namespace Migration.Machine.RiscV.Cpu;

/// <summary>Exception codes written to mcause (privileged spec, table 3.6).</summary>
internal static class TrapCause
{
    public const ulong InstructionAddressMisaligned = 0;
    public const ulong InstructionAccessFault = 1;
    public const ulong IllegalInstruction = 2;
    public const ulong Breakpoint = 3;
    public const ulong LoadAddressMisaligned = 4;
    public const ulong LoadAccessFault = 5;
    public const ulong StoreAddressMisaligned = 6;
    public const ulong StoreAccessFault = 7;
    public const ulong EcallFromMachine = 11;

    public static string Describe(ulong cause) => cause switch
    {
        InstructionAddressMisaligned => "misaligned instruction fetch",
        InstructionAccessFault => "instruction access fault",
        IllegalInstruction => "illegal instruction",
        Breakpoint => "breakpoint (ebreak)",
        LoadAddressMisaligned => "misaligned load",
        LoadAccessFault => "load access fault",
        StoreAddressMisaligned => "misaligned store",
        StoreAccessFault => "store access fault",
        EcallFromMachine => "environment call from M-mode",
        _ => $"exception {cause}",
    };
}
