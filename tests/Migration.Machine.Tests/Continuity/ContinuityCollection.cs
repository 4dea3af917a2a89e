using Migration.Networking.Tests.Repair;

namespace Migration.Machine.Tests.Continuity;

/// <summary>Continuity tests change the host firewall's lock table and load both cores: one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ContinuityCollection : ICollectionFixture<LockTableLease>
{
    public const string Name = "Connection continuity";
}
