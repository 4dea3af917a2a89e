namespace Migration.Machine.RiscV.Cpu;

/// <summary>Why the interpreter's hot loop returned; each reason is handled by a slow path outside it.</summary>
internal enum ExitReason
{
    /// <summary>The instruction limit was reached or a stop was requested; pc is the next instruction.</summary>
    Stopped,

    /// <summary>Control reached a page with no decoded code (or outside RAM); pc is the target.</summary>
    FetchMiss,

    /// <summary>The instruction at pc needs the slow path: CSR access, mret, wfi, fence.i or ecall.</summary>
    System,

    /// <summary>The instruction at pc raised an exception; cause and value are in the hart state.</summary>
    Trap,

    /// <summary>A store wrote the HTIF tohost word; pc is the next instruction.</summary>
    ToHost,
}
