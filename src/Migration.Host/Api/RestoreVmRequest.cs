namespace Migration.Host.Api;

/// <summary>Body of <c>POST /vms/restore</c>.</summary>
/// <param name="File">Checkpoint file (.mck) on the daemon's host; an incremental one needs its parents beside it.</param>
/// <param name="Ports">Port mappings as for create; listeners not named here go back to their old host port when it is free.</param>
/// <param name="Name">Defaults to the checkpoint's file name without extension.</param>
/// <param name="Id">
/// The id to resume under — the id of the VM that stopped with the checkpoint, so that what knows the VM by its id (the
/// relay holding its clients) finds it again; null for a new id. Refused (409) while a VM of that id is on this host.
/// </param>
public sealed record RestoreVmRequest(string? File, IReadOnlyList<string>? Ports = null, string? Name = null, string? Id = null);
