namespace Migration.Machine.Tests.Transfer;

/// <summary>
/// Tests that measure downtime run alone: on a 2-core host, guests spinning in parallel tests take the cores the
/// migration's threads need, and the figures would measure the neighbours.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "Timing";
}
