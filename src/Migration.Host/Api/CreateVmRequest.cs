namespace Migration.Host.Api;

/// <summary>Body of <c>POST /vms</c>.</summary>
/// <param name="Guest">Absolute path of the RISC-V ELF on the daemon's host (a relative one resolves against the daemon's directory).</param>
/// <param name="Memory">Guest RAM in bytes; null for the default (256 MiB).</param>
/// <param name="Ports">Port mappings <c>GUEST:HOST</c> or <c>GUEST:ADDR:HOST</c>; host port 0 lets the host pick.</param>
/// <param name="Args">argv[1..] of the guest's main.</param>
/// <param name="Name">A label for people; defaults to the ELF's file name without extension.</param>
/// <param name="ServiceAddress">
/// <c>ADDR/PREFIX@INTERFACE</c>: an address put on this host's interface for the VM, which moves with it when it migrates
/// (hosts in separate network namespaces on one link); needs the repair backend. Map ports onto it: <c>6379:ADDR:6379</c>.
/// </param>
public sealed record CreateVmRequest(
    string? Guest,
    ulong? Memory = null,
    IReadOnlyList<string>? Ports = null,
    IReadOnlyList<string>? Args = null,
    string? Name = null,
    string? ServiceAddress = null);
