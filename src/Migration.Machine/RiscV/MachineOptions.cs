using Migration.Core.Memory;

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
}
