namespace Migration.Core.Memory;

/// <summary>
/// Guest-physical RAM: one contiguous native block of 4 KiB pages at <see cref="Base"/>, with a dirty log
/// that every guest store (and every host write through this class) marks.
/// </summary>
public sealed unsafe class GuestMemory : IDisposable
{
    public const int PageSize = 4096;
    public const int PageShift = 12;
    public const ulong DefaultBase = 0x8000_0000;
    public const ulong DefaultSize = 256UL << 20;
    public const ulong MinimumSize = 1UL << 20;

    /// <summary>64 GiB: page indices stay well inside an <see cref="int"/> and the dirty bitmap inside 2 MiB.</summary>
    public const ulong MaximumSize = 64UL << 30;

    private readonly NativeRegion _region;

    public GuestMemory(ulong size, ulong baseAddress = DefaultBase, MemoryBacking backing = MemoryBacking.HugePages)
    {
        if (size < MinimumSize || size > MaximumSize || size % PageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size,
                $"guest memory must be a multiple of {PageSize} bytes between {MinimumSize >> 20} MiB and {MaximumSize >> 30} GiB");
        }

        if (baseAddress % PageSize != 0 || baseAddress + size < baseAddress)
        {
            throw new ArgumentOutOfRangeException(nameof(baseAddress), baseAddress, "base must be page aligned and the range must not wrap");
        }

        Base = baseAddress;
        Size = size;
        PageCount = (int)(size / PageSize);
        Backing = backing;
        _region = new NativeRegion(size, backing);
        DirtyLog = new DirtyLog(PageCount);
    }

    public ulong Base { get; }

    public ulong Size { get; }

    /// <summary>First address past the end of RAM.</summary>
    public ulong End => Base + Size;

    public int PageCount { get; }

    public MemoryBacking Backing { get; }

    public DirtyLog DirtyLog { get; }

    /// <summary>Host address of guest-physical <see cref="Base"/>; for the interpreter's load/store fast path.</summary>
    public byte* HostBase => _region.Pointer;

    /// <summary>True when [address, address+length) lies inside RAM; overflow-safe for any pair.</summary>
    public bool Contains(ulong address, ulong length)
    {
        var offset = address - Base;
        return address >= Base && offset <= Size && length <= Size - offset;
    }

    /// <summary>The guest bytes at an address, or false when any byte of the range is outside RAM.</summary>
    public bool TryGetSpan(ulong address, ulong length, out Span<byte> span)
    {
        if (!Contains(address, length) || length > int.MaxValue)
        {
            span = default;
            return false;
        }

        span = new Span<byte>(HostBase + (address - Base), (int)length);
        return true;
    }

    public Span<byte> GetPage(int page)
    {
        if ((uint)page >= (uint)PageCount)
        {
            throw new ArgumentOutOfRangeException(nameof(page), page, $"page index outside 0..{PageCount - 1}");
        }

        return new Span<byte>(HostBase + ((long)page << PageShift), PageSize);
    }

    /// <summary>Vectorised: the runtime's IndexOfAnyExcept compares 32 or 64 bytes at a time.</summary>
    public bool IsZeroPage(int page) => !GetPage(page).ContainsAnyExcept((byte)0);

    public void Read(ulong address, Span<byte> destination)
    {
        if (!TryGetSpan(address, (ulong)destination.Length, out var source))
        {
            throw new GuestMemoryAccessException(address, (ulong)destination.Length, this);
        }

        source.CopyTo(destination);
    }

    /// <summary>Copies bytes into guest memory and marks their pages dirty (data first, then the bits).</summary>
    public void Write(ulong address, ReadOnlySpan<byte> source)
    {
        if (!TryGetSpan(address, (ulong)source.Length, out var destination))
        {
            throw new GuestMemoryAccessException(address, (ulong)source.Length, this);
        }

        source.CopyTo(destination);
        DirtyLog.MarkRange(address - Base, (ulong)source.Length);
    }

    public ulong ReadUInt64(ulong address)
    {
        Span<byte> buffer = stackalloc byte[8];
        Read(address, buffer);
        return BitConverter.ToUInt64(buffer);
    }

    public void WriteUInt64(ulong address, ulong value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BitConverter.TryWriteBytes(buffer, value);
        Write(address, buffer);
    }

    public void Dispose()
    {
        DirtyLog.Dispose();
        _region.Dispose();
    }
}
