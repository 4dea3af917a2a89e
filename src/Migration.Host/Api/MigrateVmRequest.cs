namespace Migration.Host.Api;

/// <summary>
/// Body of <c>POST /vms/{id}/migrate</c>. The transfer engine owns the meaning of these fields and may add its own
/// (compression, rounds, threads); the daemon only passes the request through <see cref="LiveMigration.IMigrationEndpoint"/>.
/// </summary>
/// <param name="To">The destination daemon's migration endpoint, <c>HOST:PORT</c>.</param>
/// <param name="DowntimeMilliseconds">Target for the final stop-and-copy; null for the engine's default.</param>
/// <param name="MaxBandwidth">Bytes per second; null for unlimited.</param>
/// <param name="Compress">LZ4 for non-zero pages; null for the engine's default (off: raw pages cross loopback faster).</param>
public sealed record MigrateVmRequest(string? To, double? DowntimeMilliseconds = null, long? MaxBandwidth = null, bool? Compress = null);
