using Migration.Core.Sockets;
using Migration.Host.Api;

namespace Migration.Host.Vms;

/// <summary>Port mappings as the API takes them, with the command line's syntax (<see cref="PortMap.TryParse(IEnumerable{string}, out PortMap, out IReadOnlyList{string})"/>).</summary>
public static class PortSpec
{
    /// <summary>Builds the machine's port map; a malformed or repeated entry is a 400 naming it.</summary>
    public static PortMap ToPortMap(IReadOnlyList<string>? specs) =>
        PortMap.TryParse(specs ?? [], out var map, out var errors) ? map : throw ApiException.BadRequest($"ports: {errors[0]}");
}
