namespace Migration.Machine.RiscV;

public enum MachineExitKind
{
    /// <summary>The guest exited through the exit hypercall or HTIF tohost.</summary>
    Exited,

    /// <summary>An unhandled trap or a host-side error stopped the guest.</summary>
    Faulted,

    InstructionLimit,

    /// <summary>The host stopped the machine.</summary>
    Terminated,
}
