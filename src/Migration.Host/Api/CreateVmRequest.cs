namespace Migration.Host.Api;

/// <summary>Body of <c>POST /vms</c>.</summary>
/// <param name="Guest">Absolute path of the RISC-V ELF on the daemon's host (a relative one resolves against the daemon's directory).</param>
/// <param name="Memory">Guest RAM in bytes; null for the default (256 MiB).</param>
/// <param name="Ports">Port mappings <c>GUEST:HOST</c> or <c>GUEST:ADDR:HOST</c>; host port 0 lets the host pick.</param>
/// <param name="Args">argv[1..] of the guest's main.</param>
/// <param name="Name">A label for people; defaults to the ELF's file name without extension.</param>
public sealed record CreateVmRequest(
    string? Guest,
    ulong? Memory = null,
    IReadOnlyList<string>? Ports = null,
    IReadOnlyList<string>? Args = null,
    string? Name = null);
