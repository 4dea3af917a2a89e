namespace Migration.Core.Transfer;

public enum MigrationPhase
{
    /// <summary>Connecting, authenticating, writing the stream's preamble.</summary>
    Setup,

    /// <summary>The guest runs while rounds of pages are sent.</summary>
    Precopy,

    /// <summary>The vCPU is paused; the last dirty pages and the CPU, device and socket state are sent.</summary>
    StopAndCopy,

    /// <summary>Waiting for the destination's Ready, committing, waiting for Resumed.</summary>
    Handover,

    Completed,

    /// <summary>Failed after the commit, or before anything moved (authentication): no rollback was needed or possible.</summary>
    Failed,

    /// <summary>Failed before the commit: the source VM continues as if nothing happened.</summary>
    RolledBack,
}
