namespace Migration.Cli.Bench;

/// <summary>One row of the checkpoint benchmark: what the guest's memory holds when the checkpoint is taken.</summary>
internal sealed record CheckpointScenario(string Name, ContentPattern Pattern, Func<ulong, ulong> FilledBytes, bool Compress = true)
{
    /// <summary>The three cases the goals are set for, on a guest of any size (1 GiB in the README).</summary>
    public static IReadOnlyList<CheckpointScenario> Standard { get; } =
    [
        new("a: half random, half zero", ContentPattern.Random, memory => memory / 2),
        new("b: all zero", ContentPattern.Zero, _ => 0),
        new("c: text", ContentPattern.Text, memory => memory - CheckpointBenchmark.Reserved),

        // LZ4 here compresses prose at ~0.3 GB/s a core, slower than this disk takes raw pages: the trade is size for time.
        new("c: text, no compression", ContentPattern.Text, memory => memory - CheckpointBenchmark.Reserved, Compress: false),
    ];
}
