namespace Migration.Machine.RiscV;

/// <summary>How a machine ended, with the exit code a command-line run should return.</summary>
public sealed record MachineExit(MachineExitKind Kind, long GuestExitCode, string? Message, ulong InstructionsRetired)
{
    /// <summary>Process exit code: the guest's own code when it exited (truncated to 0–255 as a shell does), 1 for a fault, 2 for a limit.</summary>
    public int ProcessExitCode => Kind switch
    {
        MachineExitKind.Exited => (int)(GuestExitCode & 0xFF),
        MachineExitKind.InstructionLimit => 2,
        MachineExitKind.Terminated => 130,
        _ => 1,
    };

    public override string ToString() => Kind switch
    {
        MachineExitKind.Exited => $"guest exited with code {GuestExitCode} after {InstructionsRetired} instructions",
        MachineExitKind.InstructionLimit => $"stopped at the instruction limit after {InstructionsRetired} instructions",
        MachineExitKind.Terminated => $"stopped by the host after {InstructionsRetired} instructions",
        _ => $"guest fault: {Message}",
    };
}
