using System.Net;
using Migration.Core.Sockets;
using Migration.Host.Api;

namespace Migration.Host.Vms;

/// <summary>Port mappings as the API takes them, with the command line's syntax (<see cref="PortMap.TryParseEntry"/>).</summary>
public static class PortSpec
{
    public static bool TryParse(string? text, out int guestPort, out IPEndPoint? host, out string? error) =>
        PortMap.TryParseEntry(text ?? "", out guestPort, out host, out error);

    /// <summary>Builds the machine's port map; a malformed or repeated entry is a 400 naming it.</summary>
    public static PortMap ToPortMap(IReadOnlyList<string>? specs)
    {
        var map = new PortMap();
        foreach (var spec in specs ?? [])
        {
            if (!TryParse(spec, out var guestPort, out var host, out var error))
            {
                throw ApiException.BadRequest($"ports: {error}");
            }

            if (map.Entries.ContainsKey(guestPort))
            {
                throw ApiException.BadRequest($"ports: guest port {guestPort} is mapped twice");
            }

            map.Add(guestPort, host!);
        }

        return map;
    }
}
