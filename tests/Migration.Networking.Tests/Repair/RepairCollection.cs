namespace Migration.Networking.Tests.Repair;

/// <summary>Tests that change the host's firewall (the network lock's table) run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RepairCollection : ICollectionFixture<LockTableLease>
{
    public const string Name = "TCP repair";
}
