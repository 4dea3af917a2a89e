namespace Migration.Core.Transfer;

/// <summary>Why pre-copy ended and stop-and-copy began.</summary>
public enum SwitchoverReason
{
    /// <summary>The dirty pages fit the downtime target at the measured bandwidth.</summary>
    Converged,

    /// <summary>The round limit was reached with more dirty pages than the target allows: the downtime may be longer.</summary>
    RoundLimit,
}
