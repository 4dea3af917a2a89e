using Migration.Core.Memory;
using Migration.Core.Pages;
using Migration.Core.Sockets;
using Migration.Core.Streams;

namespace Migration.Core.State;

/// <summary>
/// Everything a verified stream held: the descriptor, the filled memory, the sections and the socket table. It owns
/// the memory until <see cref="TakeMemory"/> hands it to a machine.
/// </summary>
public sealed class RestoredMachineState : IDisposable
{
    private GuestMemory? _memory;
    private readonly bool _ownsMemory;

    internal RestoredMachineState(
        StreamHeader header,
        StreamSummary summary,
        MachineDescriptor machine,
        GuestMemory memory,
        bool ownsMemory,
        IReadOnlyList<StateSection> sections,
        IReadOnlyDictionary<string, long> sectionOffsets,
        IReadOnlyList<VirtualSocket> sockets,
        PageBatchStats pages)
    {
        SectionOffsets = sectionOffsets;
        Header = header;
        Summary = summary;
        Machine = machine;
        _memory = memory;
        _ownsMemory = ownsMemory;
        Sections = sections;
        Sockets = sockets;
        Pages = pages;
    }

    public StreamHeader Header { get; }

    public StreamSummary Summary { get; }

    public MachineDescriptor Machine { get; }

    /// <summary>Every section other than the machine descriptor and the socket table, in stream order.</summary>
    public IReadOnlyList<StateSection> Sections { get; }

    /// <summary>Stream offset of each section's frame, so a machine that refuses a section can say where it was.</summary>
    public IReadOnlyDictionary<string, long> SectionOffsets { get; }

    public IReadOnlyList<VirtualSocket> Sockets { get; }

    public PageBatchStats Pages { get; }

    public GuestMemory Memory => _memory ?? throw new InvalidOperationException("the memory has been handed over");

    public StateSection? FindSection(string name) => Sections.FirstOrDefault(s => s.Name == name);

    /// <summary>
    /// This state applied over <paramref name="parent"/>'s memory (the next file of a chain): takes over the parent's
    /// memory and adds up the page counts; the sections and sockets are this state's, the latest.
    /// </summary>
    internal RestoredMachineState Inherit(RestoredMachineState parent)
    {
        var memory = parent.TakeMemory();
        _memory = null;
        return new RestoredMachineState(Header, Summary, Machine, memory, ownsMemory: true, Sections, SectionOffsets, Sockets, Pages.Add(parent.Pages));
    }

    /// <summary>Hands the memory to the caller, who disposes it from then on.</summary>
    public GuestMemory TakeMemory()
    {
        var memory = Memory;
        _memory = null;
        return memory;
    }

    public void Dispose()
    {
        var memory = Interlocked.Exchange(ref _memory, null);
        if (_ownsMemory)
        {
            memory?.Dispose();
        }
    }
}
