namespace Migration.Host.Api;

/// <summary>What <c>GET /host</c> returns.</summary>
/// <param name="Api">The address the API answers at, with the port the system picked when 0 was given.</param>
/// <param name="Network">The socket backend this host's VMs use.</param>
/// <param name="NetworkFallback">Why the automatic choice took the plain backend; null when it did not fall back.</param>
public sealed record HostInfo(
    string Name,
    string Version,
    int Vms,
    int MigrationPort,
    string Api,
    DateTimeOffset StartedAt,
    int ProcessId,
    NetworkBackend Network = NetworkBackend.Plain,
    string? NetworkFallback = null);
