namespace Migration.Cli.Bench;

/// <summary>What <c>bench downtime</c> measures, and where it writes the JSON and the chart.</summary>
internal sealed record DowntimeSettings(
    IReadOnlyList<ulong> Memories,
    IReadOnlyList<DowntimeWorkload> Workloads,
    IReadOnlyList<string> Backends,
    IReadOnlyList<bool> Compression,
    int Runs,
    string JsonPath,
    string ChartPath)
{
    public const string DefaultJsonPath = "bench-results/downtime.json";
    public const string DefaultChartPath = "bench-results/downtime.png";

    public static readonly IReadOnlyList<string> BackendNames = ["auto", "repair", "relay", "plain"];

    /// <summary>
    /// The full matrix: three memory sizes; idle, four dirty rates on a 64 MiB working set and the middle-high rate on
    /// 16 and 256 MiB too (how the working set's size weighs against the rate), kv; compression off and on.
    /// </summary>
    public static DowntimeSettings Full { get; } = new(
        [256UL << 20, 1UL << 30, 4UL << 30],
        [
            new(DowntimeWorkloadKind.Idle),
            new(DowntimeWorkloadKind.Dirty, 64UL << 20, 2_500),
            new(DowntimeWorkloadKind.Dirty, 64UL << 20, 10_000),
            new(DowntimeWorkloadKind.Dirty, 64UL << 20, 40_000),
            new(DowntimeWorkloadKind.Dirty, 64UL << 20, 160_000),
            new(DowntimeWorkloadKind.Dirty, 16UL << 20, 40_000),
            new(DowntimeWorkloadKind.Dirty, 256UL << 20, 40_000),
            new(DowntimeWorkloadKind.Kv),
        ],
        ["auto"],
        [false, true],
        5,
        DefaultJsonPath,
        DefaultChartPath);

    /// <summary>A small matrix for a first look, well under two minutes.</summary>
    public static DowntimeSettings Quick { get; } = new(
        [64UL << 20, 256UL << 20],
        [
            new(DowntimeWorkloadKind.Idle),
            new(DowntimeWorkloadKind.Dirty, 16UL << 20, 10_000),
            new(DowntimeWorkloadKind.Kv),
        ],
        ["auto"],
        [false],
        2,
        DefaultJsonPath,
        DefaultChartPath);

    /// <summary>The cells in the order they run: backend outermost, since each backend needs hosts of its own.</summary>
    public IEnumerable<DowntimeCell> Cells() =>
        from backend in Backends
        from memory in Memories
        from workload in Workloads
        where workload.WorkingSetBytes < memory
        from compress in Compression
        select new DowntimeCell(memory, workload, backend, compress);
}
