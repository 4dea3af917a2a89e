namespace Migration.Core.Transfer;

/// <summary>Where the guest is after a failed migration.</summary>
public enum MigrationOutcome
{
    /// <summary>Source: nothing was committed; the VM continues here as before (running if it was). Destination: everything was discarded.</summary>
    RolledBack,

    /// <summary>
    /// The commit was sent (or sending it failed part way): the destination may run the guest. The source VM stays
    /// paused and must not be resumed until the destination's state is known.
    /// </summary>
    Unknown,
}
