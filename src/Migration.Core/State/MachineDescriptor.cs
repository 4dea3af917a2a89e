using MessagePack;
using Migration.Core.Memory;

namespace Migration.Core.State;

/// <summary>What a destination must build before any page arrives: the machine kind and the shape of its memory.</summary>
[MessagePackObject]
public sealed class MachineDescriptor
{
    public const int SectionVersion = 1;

    [Key(0)]
    public string Kind { get; set; } = "";

    [Key(1)]
    public ulong MemorySize { get; set; }

    [Key(2)]
    public int PageSize { get; set; } = GuestMemory.PageSize;

    [Key(3)]
    public ulong MemoryBase { get; set; } = GuestMemory.DefaultBase;

    public static MachineDescriptor Describe(string kind, GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        return new MachineDescriptor { Kind = kind, MemorySize = memory.Size, PageSize = GuestMemory.PageSize, MemoryBase = memory.Base };
    }

    public StateSection ToSection() => SectionCodec.Encode(SectionNames.Machine, SectionVersion, this);

    /// <summary>The semantic pass: decoded fields that would make no machine, or a different one than the stream header names.</summary>
    public static MachineDescriptor FromSection(StateSection section, string streamKind)
    {
        var d = SectionCodec.Decode<MachineDescriptor>(section, SectionVersion);
        if (d.Kind != streamKind)
        {
            throw new StateSectionException(SectionNames.Machine, $"kind '{d.Kind}' differs from the stream header's '{streamKind}'");
        }

        if (d.PageSize != GuestMemory.PageSize)
        {
            throw new StateSectionException(SectionNames.Machine, $"page size {d.PageSize} is not {GuestMemory.PageSize}");
        }

        if (d.MemorySize < GuestMemory.MinimumSize || d.MemorySize > GuestMemory.MaximumSize || d.MemorySize % GuestMemory.PageSize != 0)
        {
            throw new StateSectionException(SectionNames.Machine, $"memory size {d.MemorySize} is not a whole number of pages between {GuestMemory.MinimumSize} and {GuestMemory.MaximumSize}");
        }

        if (d.MemoryBase % GuestMemory.PageSize != 0 || d.MemoryBase > ulong.MaxValue - d.MemorySize)
        {
            throw new StateSectionException(SectionNames.Machine, $"memory base 0x{d.MemoryBase:x} is not page aligned or the memory would wrap");
        }

        return d;
    }
}
