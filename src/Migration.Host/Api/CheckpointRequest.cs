namespace Migration.Host.Api;

/// <summary>Body of <c>POST /vms/{id}/checkpoint</c>.</summary>
/// <param name="Directory">Where the file goes (created if missing), on the daemon's host.</param>
/// <param name="Incremental">
/// Write only the pages dirtied since this VM's previous checkpoint in the same directory. When that is not possible
/// (no previous checkpoint there, or something else consumed the dirty log) a full checkpoint is written and the
/// result says why.
/// </param>
/// <param name="Stop">
/// The VM ends with this checkpoint and is removed from the host once the file is safe. With a backend that preserves
/// connections they are frozen into the file, and a restore of it on this host within 60 s takes them up again. If the
/// file cannot be written, the VM runs on.
/// </param>
public sealed record CheckpointRequest(string? Directory, bool Incremental = false, bool Stop = false);
