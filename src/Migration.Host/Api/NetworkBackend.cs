namespace Migration.Host.Api;

/// <summary>
/// What backs a host's guest sockets (DESIGN §4): <see cref="Plain"/> resets connections when a VM moves,
/// <see cref="Repair"/> carries them with Linux TCP repair. A relay backend would be a third member.
/// </summary>
public enum NetworkBackend
{
    Plain,
    Repair,
}
