using Migration.Core.Memory;
using Migration.Core.State;

namespace Migration.Machine.RiscV.State;

/// <summary>
/// The sections a <see cref="RiscVMachine"/> writes for its CPU and devices, and the reader that turns them back
/// into state. The reader knows exactly the versions below and refuses any other: a newer writer that changes a
/// section's meaning bumps its version, and an old reader must say so rather than guess.
/// </summary>
public static class RiscVStateSections
{
    public const string Cpu = "cpu";
    public const string Devices = "devices";
    public const int CpuVersion = 1;
    public const int DevicesVersion = 1;

    /// <summary>
    /// Builds the MessagePack serializers of both sections now (100–150 ms the first time): a host that may migrate or
    /// checkpoint calls this at start, so that cost never lands inside a guest's pause.
    /// </summary>
    public static void WarmUp()
    {
        var sections = Write(new CpuState { Registers = new ulong[CpuState.StoredRegisters] }, new DeviceState());
        _ = SectionCodec.Decode<CpuState>(sections[0], CpuVersion);
        _ = SectionCodec.Decode<DeviceState>(sections[1], DevicesVersion);
    }

    internal static IReadOnlyList<StateSection> Write(CpuState cpu, DeviceState devices) =>
    [
        SectionCodec.Encode(Cpu, CpuVersion, cpu),
        SectionCodec.Encode(Devices, DevicesVersion, devices),
    ];

    /// <summary>
    /// Finds, decodes and checks the <c>cpu</c> and <c>devices</c> sections against the memory they will run in.
    /// Other sections (the machine descriptor, the socket table, …) belong to other readers and are skipped.
    /// </summary>
    /// <exception cref="StateSectionException">A section is missing, repeated, of an unknown version, undecodable or invalid.</exception>
    internal static (CpuState Cpu, DeviceState Devices) Read(IReadOnlyList<StateSection> sections, GuestMemory memory)
    {
        var cpu = SectionCodec.Decode<CpuState>(Find(sections, Cpu), CpuVersion);
        var devices = SectionCodec.Decode<DeviceState>(Find(sections, Devices), DevicesVersion);
        cpu.Validate(memory);
        devices.Validate(memory);
        return (cpu, devices);
    }

    private static StateSection Find(IReadOnlyList<StateSection> sections, string name)
    {
        StateSection? found = null;
        var count = 0;
        foreach (var section in sections)
        {
            if (section is not null && section.Name == name)
            {
                found = section;
                count++;
            }
        }

        return count switch
        {
            0 => throw new StateSectionException(name, $"missing; a {RiscVMachine.MachineKind} machine needs both '{Cpu}' and '{Devices}'"),
            1 => found!,
            _ => throw new StateSectionException(name, $"appears {count} times"),
        };
    }
}
