namespace Migration.Host.Api;

/// <summary>Body of <c>POST /vms/{id}/checkpoint</c>.</summary>
/// <param name="Directory">Where the file goes (created if missing), on the daemon's host.</param>
/// <param name="Incremental">
/// Write only the pages dirtied since this VM's previous checkpoint in the same directory. When that is not possible
/// (no previous checkpoint there, or something else consumed the dirty log) a full checkpoint is written and the
/// result says why.
/// </param>
public sealed record CheckpointRequest(string? Directory, bool Incremental = false);
