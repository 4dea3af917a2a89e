using Migration.Core.Memory;
using Migration.Core.Sockets;
using Migration.Core.State;

namespace Migration.Core.Machines;

/// <summary>
/// What the migration engine sees of a machine: its memory with the dirty log, and a vCPU it can stop at
/// an instruction boundary and start again. Nothing here is specific to an instruction set.
/// </summary>
public interface IVirtualMachine : IDisposable
{
    /// <summary>Names the machine type so a stream can refuse state from a different one.</summary>
    string Kind { get; }

    GuestMemory Memory { get; }

    MachineRunState State { get; }

    /// <summary>Stops the vCPU at an instruction boundary (or inside a restartable hypercall) and returns once it has stopped.</summary>
    Task PauseAsync(CancellationToken cancellationToken = default);

    void Resume();

    /// <summary>
    /// Fraction of wall time, in [0, 1), that the running vCPU is held back (auto-converge in a live migration slows a
    /// guest that dirties memory faster than the link carries it). 0, the default, never holds it.
    /// </summary>
    double Throttle { get; set; }

    /// <summary>The guest's sockets, captured as the socket table; null when the machine has no network.</summary>
    VirtualSocketStack? Sockets { get; }

    /// <summary>
    /// The machine-specific state (CPU, devices) as sections, for a machine that is paused or not yet started; a running
    /// or finished machine is refused with <see cref="InvalidOperationException"/>. Memory and sockets are captured separately.
    /// </summary>
    IReadOnlyList<StateSection> CaptureDeviceState();
}
