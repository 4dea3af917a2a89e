using System.Globalization;

namespace Migration.Cli.Bench;

/// <summary>What the guest does while it is migrated: <c>idle</c>, <c>kv</c>, or <c>dirty:WORKING-SET:PAGES-PER-SECOND</c>.</summary>
internal sealed record DowntimeWorkload(DowntimeWorkloadKind Kind, ulong WorkingSetBytes = 0, ulong PagesPerSecond = 0)
{
    private const ulong PageSize = 4096;

    /// <summary>How the option spells it, e.g. <c>dirty:64M:10000</c>.</summary>
    public string Name => Kind switch
    {
        DowntimeWorkloadKind.Dirty => string.Create(CultureInfo.InvariantCulture, $"dirty:{Size(WorkingSetBytes)}:{PagesPerSecond}"),
        _ => Kind.ToString().ToLowerInvariant(),
    };

    public ulong WorkingSetPages => WorkingSetBytes / PageSize;

    /// <summary>Bytes of guest memory dirtied per second: what the chart's x axis shows (idle: 0).</summary>
    public double DirtyMegabytesPerSecond => PagesPerSecond * (double)PageSize / 1e6;

    public string Guest => Kind.ToString().ToLowerInvariant();

    public IReadOnlyList<string> Args => Kind == DowntimeWorkloadKind.Dirty
        ? [WorkingSetPages.ToString(CultureInfo.InvariantCulture), PagesPerSecond.ToString(CultureInfo.InvariantCulture)]
        : [];

    /// <summary>What the guest prints once it does what it is there for (kv is ready when it listens instead).</summary>
    public string ReadyText => Kind == DowntimeWorkloadKind.Idle ? "idle: ready" : "dirty: ";

    public static bool TryParse(string text, out DowntimeWorkload workload, out string error)
    {
        workload = new DowntimeWorkload(DowntimeWorkloadKind.Idle);
        error = "";
        var parts = text.Trim().Split(':');
        switch (parts[0])
        {
            case "idle" when parts.Length == 1:
                return true;
            case "kv" when parts.Length == 1:
                workload = new DowntimeWorkload(DowntimeWorkloadKind.Kv);
                return true;
            case "dirty" when parts.Length == 3:
                if (!ByteSize.TryParse(parts[1], out var bytes) || bytes < PageSize || bytes % PageSize != 0)
                {
                    error = $"'{text}': working set '{parts[1]}' is not a size of whole 4 KiB pages (such as 64M)";
                    return false;
                }

                if (!ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var rate) || rate > 1_000_000_000)
                {
                    error = $"'{text}': rate '{parts[2]}' is not a number of pages per second (0 = as fast as the guest can)";
                    return false;
                }

                workload = new DowntimeWorkload(DowntimeWorkloadKind.Dirty, bytes, rate);
                return true;
            default:
                error = $"'{text}' is not a workload: give idle, kv or dirty:WORKING-SET:PAGES-PER-SECOND (such as dirty:64M:10000)";
                return false;
        }
    }

    private static string Size(ulong bytes) => bytes switch
    {
        _ when bytes % (1UL << 30) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 30}G"),
        _ when bytes % (1UL << 20) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 20}M"),
        _ when bytes % (1UL << 10) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 10}K"),
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };
}
