using System.Globalization;
using System.Runtime.InteropServices;
using Migration.Core.Memory;

namespace Migration.Core.Transfer;

/// <summary>
/// Faults guest memory in on a background thread while round 0 streams, so that decoding pages is a copy into memory
/// that is already there: a fresh 4 KiB page costs ~20 µs to fault here, and the pause must not pay.
/// </summary>
/// <remarks>
/// MADV_POPULATE_WRITE (Linux ≥ 5.14) faults pages in writable without touching their contents, so it runs safely
/// alongside the decoders. It goes in chunks, lowest address first (the order round 0 arrives in), and stops at the
/// first error: EINVAL on an older kernel, or memory running out. It never populates more than the host has available,
/// so a large, sparse guest does not push the host into the OOM killer. The destination disposes it when round 0 is
/// in: later rounds bring few pages, and the pause must not share the machine with it. Disposing stops it after the
/// chunk in flight and waits, so the memory may be released afterwards.
/// </remarks>
internal sealed unsafe partial class MemoryPrefaulter : IDisposable
{
    private const int MadvPopulateWrite = 23;

    // One huge page per call. The call holds the process's mmap lock for reading, and a huge page that needs
    // compaction first takes milliseconds: any mmap or munmap in the process (the GC's among them) waits that long,
    // and every fault queues behind it. One page at a time bounds that stall, and the wait in Dispose.
    private const ulong ChunkBytes = 2UL << 20;

    // Left to the rest of the host when capping by MemAvailable.
    private const ulong Reserve = 512UL << 20;

    private readonly GuestMemory _memory;
    private readonly ulong _limit;
    private readonly Thread? _thread;
    private volatile bool _stop;

    private MemoryPrefaulter(GuestMemory memory)
    {
        _memory = memory;
        _limit = Math.Min(memory.Size, AvailableBytes() is { } available && available > Reserve ? available - Reserve : 0);
        if (!OperatingSystem.IsLinux() || _limit == 0)
        {
            return;
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "prefault", Priority = ThreadPriority.BelowNormal };
        _thread.Start();
    }

    /// <summary>
    /// True when the memory will be backed by 4 KiB pages, whose first write is slow here (~20 µs each) and which a
    /// populate in advance makes about twice as cheap overall. On transparent huge pages the decoders' own faults cost
    /// what the populate would, and the populate only adds contention.
    /// </summary>
    public static bool Pays(GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        if (memory.Backing == MemoryBacking.SmallPages)
        {
            return true;
        }

        try
        {
            return File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled").Contains("[never]", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    public static MemoryPrefaulter Start(GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        return new MemoryPrefaulter(memory);
    }

    public void Dispose()
    {
        _stop = true;
        _thread?.Join();
    }

    private void Run()
    {
        var start = _memory.HostBase;
        for (ulong offset = 0; offset < _limit && !_stop; offset += ChunkBytes)
        {
            var length = Math.Min(ChunkBytes, _limit - offset);
            if (Madvise(start + offset, (nuint)length, MadvPopulateWrite) != 0)
            {
                return;
            }
        }
    }

    /// <summary>MemAvailable from /proc/meminfo, or null where there is none.</summary>
    private static ulong? AvailableBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    var kib = line["MemAvailable:".Length..].Trim().Split(' ')[0];
                    return ulong.Parse(kib, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
        }

        return null;
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(void* addr, nuint length, int advice);
}
