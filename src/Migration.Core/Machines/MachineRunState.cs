namespace Migration.Core.Machines;

public enum MachineRunState
{
    Created,
    Running,
    Paused,

    /// <summary>The guest exited (hypercall or HTIF) with an exit code.</summary>
    Exited,

    /// <summary>The guest stopped on an unhandled trap or a host-side failure.</summary>
    Faulted,
}
