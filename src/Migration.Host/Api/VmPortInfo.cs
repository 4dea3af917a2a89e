namespace Migration.Host.Api;

/// <summary>
/// A guest port and where it lives on the host. A mapping asked for at create or restore is listed before the guest
/// binds it (no protocol, no host endpoint yet); once bound, each protocol on the port has its own entry.
/// </summary>
/// <param name="Protocol"><c>tcp</c> or <c>udp</c>; null for a mapping the guest has not bound yet.</param>
/// <param name="Requested">The mapping asked for, such as <c>127.0.0.1:0</c>; null for a port the guest bound without one.</param>
/// <param name="Host">The host endpoint carrying the port now, such as <c>127.0.0.1:41977</c>.</param>
public sealed record VmPortInfo(int GuestPort, string? Protocol, string? Requested, string? Host);
