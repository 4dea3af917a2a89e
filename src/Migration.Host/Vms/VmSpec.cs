using Migration.Core.Sockets;

namespace Migration.Host.Vms;

/// <summary>
/// What a VM is apart from its machine: the facts the API reports and a migration carries to the destination, where
/// the VM keeps its id, name and creation time.
/// </summary>
/// <param name="Guest">The ELF it was created from; null when restored from a checkpoint.</param>
/// <param name="Ports">The port mappings asked for; host port 0 lets the host pick.</param>
/// <param name="RestoredFrom">The checkpoint file it was restored from, if it was.</param>
/// <param name="ServiceAddress">The address that moves with the VM between hosts in separate network namespaces, <c>ADDR/PREFIX@INTERFACE</c>.</param>
public sealed record VmSpec(
    string Id,
    string Name,
    string? Guest,
    IReadOnlyList<string> Arguments,
    DateTimeOffset CreatedAt,
    PortMap Ports,
    string? RestoredFrom = null,
    string? ServiceAddress = null);
