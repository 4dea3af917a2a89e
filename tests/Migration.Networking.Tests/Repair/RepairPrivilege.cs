using Migration.Networking.Repair;

namespace Migration.Networking.Tests.Repair;

/// <summary>
/// Whether this process may use TCP repair and the network lock (root, or CAP_NET_ADMIN, with nftables installed).
/// Tests that need it return early with the reason written to the output where it is missing; CI runs as root.
/// </summary>
internal static class RepairPrivilege
{
    private static readonly Lazy<string?> Missing = new(() => RepairSupport.Probe());

    /// <summary>Null when repair works here; otherwise why not.</summary>
    public static string? Reason => Missing.Value;
}
