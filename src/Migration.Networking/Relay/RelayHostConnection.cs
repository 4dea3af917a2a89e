namespace Migration.Networking.Relay;

/// <summary>The relay's view of one host's link for one VM.</summary>
internal sealed class RelayHostConnection(RelayLink link, RelaySession session)
{
    public RelayLink Link { get; } = link;

    public RelaySession Session { get; } = session;

    public bool Closed { get; set; }

    public override string ToString() => $"host {Link.Peer} for VM {Session.Identity}";
}
