namespace Migration.Host.Api;

/// <summary>
/// What backs a host's guest sockets (DESIGN §4): <see cref="Plain"/> resets connections when a VM moves,
/// <see cref="Repair"/> carries them with Linux TCP repair, <see cref="Relay"/> through a relay that holds the clients.
/// </summary>
public enum NetworkBackend
{
    Plain,
    Repair,
    Relay,
}
