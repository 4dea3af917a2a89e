namespace Migration.Networking.Relay;

/// <summary>Where a host's side of a relay stream is in its life.</summary>
internal enum RelayHostStreamState
{
    /// <summary>Re-created from the socket table; nothing is sent until the machine starts.</summary>
    Prepared,

    /// <summary>Attach sent; waiting for the relay's count of what it already has.</summary>
    Attaching,

    Live,

    /// <summary>Detached for a migration: the counters are final and travel in the socket table.</summary>
    Frozen,

    /// <summary>Closed or reset; the relay was told.</summary>
    Ended,
}
