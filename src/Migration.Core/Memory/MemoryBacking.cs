namespace Migration.Core.Memory;

/// <summary>How guest RAM is obtained from the host.</summary>
public enum MemoryBacking
{
    /// <summary>Anonymous mmap advised for transparent huge pages (Linux); aligned native heap elsewhere.</summary>
    HugePages,

    /// <summary>Anonymous mmap explicitly kept on 4 KiB pages; exists so benchmarks can show what huge pages buy.</summary>
    SmallPages,
}
