using System.Runtime.InteropServices;
using Migration.Core.Memory;

namespace Migration.Machine.RiscV.Cpu;

/// <summary>
/// Decoded instructions, one array of 1024 records (+ a fall-through sentinel) per guest page that has run.
/// Pages are decoded on first execution and dropped on <c>fence.i</c> or when the host rewrites memory,
/// which is what makes self-modifying code behave as the spec requires.
/// </summary>
internal sealed unsafe class DecodeCache : IDisposable
{
    private const int SlotsPerPage = GuestMemory.PageSize / 4;

    /// <summary>
    /// Bound on decoded pages (64 MiB of guest code, ~128 MiB of records): a guest that executes its way through
    /// all of RAM — e.g. trapping page after page — would otherwise make the host hold twice its RAM in records.
    /// Past the bound the cache starts over, which costs only re-decoding.
    /// </summary>
    public const int MaxDecodedPages = 16384;

    private readonly GuestMemory _memory;
    private int _disposed;
    private readonly List<int> _decodedPages = [];

    public DecodeCache(GuestMemory memory)
    {
        _memory = memory;
        Table = (DecodedInstruction**)NativeMemory.AllocZeroed((nuint)memory.PageCount, (nuint)sizeof(nint));
    }

    /// <summary>Indexed by page number; null where the page has not been decoded.</summary>
    public DecodedInstruction** Table { get; }

    public int DecodedPageCount => _decodedPages.Count;

    public DecodedInstruction* Decode(int page)
    {
        var existing = Table[page];
        if (existing != null)
        {
            return existing;
        }

        if (_decodedPages.Count >= MaxDecodedPages)
        {
            InvalidateAll();
        }

        var records = (DecodedInstruction*)NativeMemory.Alloc(SlotsPerPage + 1, (nuint)sizeof(DecodedInstruction));
        var words = (uint*)(_memory.HostBase + ((long)page << GuestMemory.PageShift));
        for (var i = 0; i < SlotsPerPage; i++)
        {
            records[i] = InstructionDecoder.Decode(words[i]);
        }

        records[SlotsPerPage] = new DecodedInstruction { Op = Opcode.PageEnd };
        Table[page] = records;
        _decodedPages.Add(page);
        return records;
    }

    public void InvalidateAll()
    {
        foreach (var page in _decodedPages)
        {
            NativeMemory.Free(Table[page]);
            Table[page] = null;
        }

        _decodedPages.Clear();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        InvalidateAll();
        NativeMemory.Free(Table);
    }
}
