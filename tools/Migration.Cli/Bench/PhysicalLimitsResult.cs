namespace Migration.Cli.Bench;

/// <summary>What this host's disk and memory can do with <see cref="Bytes"/> bytes, to set checkpoint figures against.</summary>
/// <param name="WriteFsync"><c>dd bs=4M conv=fsync</c> from a cached file of random bytes to a new file.</param>
/// <param name="CopyFsync"><c>cp --reflink=never</c> of that file, then fsync of the copy.</param>
/// <param name="ReadCached"><c>dd bs=4M</c> of a just-written file to /dev/null, from the page cache.</param>
/// <param name="Memcpy">One copy between two in-process buffers whose pages are already mapped.</param>
internal sealed record PhysicalLimitsResult(
    long Bytes,
    int Repetitions,
    Throughput WriteFsync,
    Throughput CopyFsync,
    Throughput ReadCached,
    Throughput Memcpy);
