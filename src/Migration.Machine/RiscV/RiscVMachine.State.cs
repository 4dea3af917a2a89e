using Migration.Core.Machines;
using Migration.Core.Memory;
using Migration.Core.State;
using Migration.Machine.RiscV.State;

namespace Migration.Machine.RiscV;

/// <summary>Capture of the CPU and devices as state sections, and a machine rebuilt from them.</summary>
public sealed partial class RiscVMachine
{
    /// <summary>
    /// Rebuilds a captured machine around <paramref name="memory"/>, which the caller has already filled with the
    /// captured pages, and applies the <c>cpu</c> and <c>devices</c> sections; other sections are ignored. Nothing is
    /// loaded and no argument block is written: RAM already holds both. The machine is returned
    /// <see cref="MachineRunState.Created"/>; with <see cref="MachineOptions.Network"/> it has an empty socket stack,
    /// for the caller to fill (<c>Sockets.RestoreTable</c>) before <see cref="Start"/>.
    /// </summary>
    /// <remarks>
    /// On success the machine owns <paramref name="memory"/> and disposes it. On failure nothing is adopted: the
    /// caller still owns and must dispose the memory (and the network of <paramref name="options"/>).
    /// <see cref="MachineOptions.MemoryBacking"/> and <see cref="MachineOptions.Arguments"/> do not apply;
    /// <see cref="MachineOptions.MaxInstructions"/> counts from the guest's first instruction, not from the restore.
    /// </remarks>
    /// <exception cref="StateSectionException">A section is missing, of an unknown version, undecodable or invalid.</exception>
    /// <exception cref="ArgumentException">The memory is not at the RAM base or not the size the options give.</exception>
    public static RiscVMachine Restore(GuestMemory memory, IReadOnlyList<StateSection> sections, MachineOptions options)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(sections);
        ArgumentNullException.ThrowIfNull(options);
        if (memory.Size != options.MemorySize)
        {
            throw new ArgumentException($"the memory holds {memory.Size} bytes but the options give {options.MemorySize}", nameof(options));
        }

        if (memory.Base != GuestMemory.DefaultBase)
        {
            throw new ArgumentException($"the memory starts at 0x{memory.Base:x}; this machine's RAM is at 0x{GuestMemory.DefaultBase:x}", nameof(memory));
        }

        // Everything that can refuse the state runs before the machine exists, so a refusal leaves nothing to undo.
        var (cpu, devices) = RiscVStateSections.Read(sections, memory);
        var machine = new RiscVMachine(memory, options, devices.ToHostAddress, devices.ConsoleBytesWritten);
        cpu.ApplyTo(machine._hart.State);
        machine.Clock.ContinueFrom(devices.ClockNanoseconds);
        // RAM was written behind the hart's back, as when loading: nothing decoded before now may be trusted.
        machine._hart.InvalidateDecodedCode();
        return machine;
    }

    /// <summary>
    /// Captures the CPU as the <c>cpu</c> section and the clock, tohost and console count as <c>devices</c>. The
    /// machine must be parked: not yet started, or paused. A finished machine is refused — there is nothing left to
    /// resume, and its exit is reported through <see cref="Completion"/>, not through a checkpoint.
    /// </summary>
    /// <exception cref="InvalidOperationException">The machine is running or has finished.</exception>
    public IReadOnlyList<StateSection> CaptureDeviceState()
    {
        // Under the gate the vCPU cannot leave its parking place, so the state read here is the state it resumes with.
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_state is MachineRunState.Exited or MachineRunState.Faulted || _terminateRequested)
            {
                var how = _state == MachineRunState.Faulted ? "faulted" : _terminateRequested ? "terminated" : "exited";
                throw new InvalidOperationException($"the machine has finished ({how}); a finished machine cannot be captured");
            }

            var parked = _thread is null || (_state == MachineRunState.Paused && _pauseRequested);
            if (!parked)
            {
                throw new InvalidOperationException("pause the machine before capturing its state");
            }

            var devices = new DeviceState
            {
                ClockNanoseconds = Clock.NowNanoseconds,
                ToHostAddress = _hart.ToHostAddress,
                ConsoleBytesWritten = ConsoleBytesWritten,
            };
            return RiscVStateSections.Write(CpuState.Capture(_hart.State), devices);
        }
    }
}
