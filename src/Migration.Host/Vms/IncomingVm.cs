using Migration.Core.Sockets;
using Migration.Machine.RiscV;

namespace Migration.Host.Vms;

/// <summary>
/// A VM on its way in by live migration, holding its id on this host until the hand-over. The transfer engine
/// restores the machine with <see cref="CreateMachineOptions"/> (so the guest's console lands in this VM's buffer
/// and its sockets in a fresh backend of the host's kind), then calls <see cref="Commit"/> on "complete"; disposing without a
/// commit discards the reservation (the engine disposes the machine it built).
/// </summary>
public sealed class IncomingVm : IDisposable
{
    private readonly VmRegistry _registry;
    private readonly HostedVm _vm;
    private int _done;

    internal IncomingVm(VmRegistry registry, HostedVm vm)
    {
        _registry = registry;
        _vm = vm;
    }

    public VmSpec Spec => _vm.Spec;

    /// <summary>Options for <see cref="RiscVMachine.Restore"/>: each call makes a new network backend, which the machine then owns.</summary>
    public MachineOptions CreateMachineOptions(ulong memorySize) => new()
    {
        MemorySize = memorySize,
        Console = _vm.ConsoleStream,
        Network = _registry.CreateNetwork(_vm),
        Ports = Spec.Ports,
    };

    /// <summary>
    /// Registers the restored machine under the reserved id and, with <paramref name="start"/>, resumes the guest. The
    /// registry owns the machine from here (also when this throws).
    /// </summary>
    public HostedVm Commit(RiscVMachine machine, IReadOnlyList<SocketRebinding> rebindings, bool start = true)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(rebindings);
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            throw new InvalidOperationException($"{Spec.Id} was already committed or discarded");
        }

        try
        {
            _registry.Register(_vm, machine, rebindings, start, _registry.Arrived);
            return _vm;
        }
        finally
        {
            _registry.Release(Spec.Id);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _done, 1) == 0)
        {
            _registry.Release(Spec.Id);
        }
    }
}
