namespace Migration.Host.Api;

/// <summary>Body of <c>POST /vms/restore</c>.</summary>
/// <param name="File">Checkpoint file (.mck) on the daemon's host; an incremental one needs its parents beside it.</param>
/// <param name="Ports">Port mappings as for create; listeners not named here go back to their old host port when it is free.</param>
/// <param name="Name">Defaults to the checkpoint's file name without extension.</param>
public sealed record RestoreVmRequest(string? File, IReadOnlyList<string>? Ports = null, string? Name = null);
