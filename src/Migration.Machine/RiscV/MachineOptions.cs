using Migration.Core.Memory;
using Migration.Core.Sockets;

namespace Migration.Machine.RiscV;

public sealed record MachineOptions
{
    public ulong MemorySize { get; init; } = GuestMemory.DefaultSize;

    public MemoryBacking MemoryBacking { get; init; } = MemoryBacking.HugePages;

    /// <summary>The machine stops (at the next taken branch) once this many instructions have retired.</summary>
    public ulong MaxInstructions { get; init; } = ulong.MaxValue;

    /// <summary>Where the guest's console output goes.</summary>
    public Stream Console { get; init; } = Stream.Null;

    /// <summary>argv[1..] of the guest's main; argv[0] is the executable's name.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Backs guest sockets with host endpoints; without one, socket hypercalls return -ENOSYS. The machine owns and disposes it.</summary>
    public IHostNetwork? Network { get; init; }

    /// <summary>Where guest ports appear on the host; unmapped ports are the same port on 127.0.0.1.</summary>
    public PortMap Ports { get; init; } = new();

    public int MaxSockets { get; init; } = VirtualSocketStack.DefaultMaxSockets;
}
