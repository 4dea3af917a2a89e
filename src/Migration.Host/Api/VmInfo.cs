namespace Migration.Host.Api;

/// <summary>One VM as <c>GET /vms/{id}</c> returns it.</summary>
/// <param name="Guest">The ELF it was created from; null for a VM restored from a checkpoint.</param>
/// <param name="RestoredFrom">The checkpoint file it was restored from, if it was.</param>
/// <param name="ConsoleBytes">The console offset after the last byte the guest wrote; <c>console?offset=</c> counts in the same bytes.</param>
/// <param name="Exit">How it ended; null while it has not.</param>
/// <param name="Network">The backend of its sockets on this host.</param>
/// <param name="ServiceAddress">The address that moves with it, if it has one.</param>
/// <param name="Unresolved">
/// Set while the VM is held paused after a migration that sent Commit but never heard the destination take over: why,
/// and how to resolve it (<c>resume</c> with <c>force</c> once the destination is known not to run it, else delete).
/// </param>
public sealed record VmInfo(
    string Id,
    string Name,
    VmState State,
    ulong Memory,
    string? Guest,
    IReadOnlyList<string> Arguments,
    string? RestoredFrom,
    DateTimeOffset CreatedAt,
    IReadOnlyList<VmPortInfo> Ports,
    long ConsoleBytes,
    ulong InstructionsRetired,
    VmExitInfo? Exit,
    NetworkBackend Network = NetworkBackend.Plain,
    string? ServiceAddress = null,
    string? Unresolved = null);
