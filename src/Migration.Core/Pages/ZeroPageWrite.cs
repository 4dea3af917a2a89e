namespace Migration.Core.Pages;

/// <summary>What decoding does with a Zero page.</summary>
public enum ZeroPageWrite
{
    /// <summary>
    /// Leaves the destination page alone: right for fresh guest memory, which is zero, and it keeps untouched memory
    /// untouched (no page faults, no host RAM committed for pages the guest never used).
    /// </summary>
    Skip,

    /// <summary>
    /// Clears the destination page unless it is already zero: for restoring increments over existing memory. It reads
    /// every Zero page's destination, which on never-touched memory costs a fault per page (~2.5–4 s per GiB here).
    /// </summary>
    ClearIfNonZero,
}
