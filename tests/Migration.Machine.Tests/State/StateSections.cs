using Migration.Core.Memory;
using Migration.Core.State;
using Migration.Machine.RiscV.State;

namespace Migration.Machine.Tests.State;

/// <summary>What the Core layer does around a restore, reduced to what these tests need: copying RAM and editing sections.</summary>
internal static class StateSections
{
    /// <summary>A fresh copy of guest RAM, as a checkpoint reader would rebuild it page by page.</summary>
    public static GuestMemory CopyMemory(GuestMemory source)
    {
        var copy = new GuestMemory(source.Size, source.Base);
        try
        {
            for (var page = 0; page < source.PageCount; page++)
            {
                if (!source.IsZeroPage(page))
                {
                    copy.Write(source.Base + ((ulong)page << GuestMemory.PageShift), source.GetPage(page));
                }
            }

            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    public static StateSection Get(IReadOnlyList<StateSection> sections, string name) => sections.Single(s => s.Name == name);

    public static CpuState CpuOf(IReadOnlyList<StateSection> sections) =>
        SectionCodec.Decode<CpuState>(Get(sections, RiscVStateSections.Cpu), RiscVStateSections.CpuVersion);

    public static DeviceState DevicesOf(IReadOnlyList<StateSection> sections) =>
        SectionCodec.Decode<DeviceState>(Get(sections, RiscVStateSections.Devices), RiscVStateSections.DevicesVersion);

    public static IReadOnlyList<StateSection> WithCpu(IReadOnlyList<StateSection> sections, Action<CpuState> edit)
    {
        var cpu = CpuOf(sections);
        edit(cpu);
        return Replace(sections, SectionCodec.Encode(RiscVStateSections.Cpu, RiscVStateSections.CpuVersion, cpu));
    }

    public static IReadOnlyList<StateSection> WithDevices(IReadOnlyList<StateSection> sections, Action<DeviceState> edit)
    {
        var devices = DevicesOf(sections);
        edit(devices);
        return Replace(sections, SectionCodec.Encode(RiscVStateSections.Devices, RiscVStateSections.DevicesVersion, devices));
    }

    public static IReadOnlyList<StateSection> Replace(IReadOnlyList<StateSection> sections, StateSection replacement) =>
        sections.Select(s => s.Name == replacement.Name ? replacement : s).ToList();

    public static IReadOnlyList<StateSection> Without(IReadOnlyList<StateSection> sections, string name) =>
        sections.Where(s => s.Name != name).ToList();
}
