using Migration.Core.Memory;
using Migration.Core.Pages;

namespace Migration.Core.Transfer;

public sealed class MigrationReceiveOptions
{
    public required ReadOnlyMemory<byte> Secret { get; init; }

    public TimeSpan AuthenticationTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>TLS around the channel with this host's certificate; a source that does not use it is refused. Null: plain TCP.</summary>
    public MigrationTls? Tls { get; init; }

    /// <summary>How long the destination, holding a built machine, waits for the source's Commit before discarding it.</summary>
    public TimeSpan HandoverTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the stream may bring no bytes with the connection open before the destination discards everything.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Refuse a stream for another kind of machine before anything is allocated; null accepts any kind.</summary>
    public string? ExpectedKind { get; init; }

    /// <summary>Largest guest memory this destination takes; a larger VM is refused when its machine section arrives.</summary>
    public ulong? MaxMemorySize { get; init; }

    public MemoryBacking MemoryBacking { get; init; } = MemoryBacking.HugePages;

    /// <summary>
    /// Pre-fault guest memory on a background thread while round 0 streams (MADV_POPULATE_WRITE, Linux ≥ 5.14), so
    /// the decoders do not take the page faults; it stops when round 0 is in. Null (the default) decides by the page
    /// size backing the memory, as measured on our hosts (a 1 GiB guest holding 512 MiB, over loopback): on 4 KiB pages
    /// it pays (0.94 s instead of 1.68 s), on transparent huge pages it costs (0.46 s instead of 0.41 s, and seconds when
    /// huge pages need compaction), since a decoder's own fault then does the same work as the populate.
    /// </summary>
    public bool? Prefault { get; init; }

    public int DecodeParallelism { get; init; } = PageDecodeOptions.Default.MaxDegreeOfParallelism;
}
