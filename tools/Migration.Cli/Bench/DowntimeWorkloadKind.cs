namespace Migration.Cli.Bench;

internal enum DowntimeWorkloadKind
{
    /// <summary>The <c>idle</c> guest: sleeps, writes no memory.</summary>
    Idle,

    /// <summary>The <c>dirty</c> guest: rewrites a working set at a set rate.</summary>
    Dirty,

    /// <summary>The <c>kv</c> guest under a client load, whose clients see the pause.</summary>
    Kv,
}
