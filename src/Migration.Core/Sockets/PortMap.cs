using System.Globalization;
using System.Net;

namespace Migration.Core.Sockets;

/// <summary>
/// Maps the ports a guest binds to host endpoints: <c>GUEST:HOST</c> or <c>GUEST:ADDR:HOST</c>; an unmapped
/// port is the same port on 127.0.0.1, so a guest never listens on a host's public interfaces by accident.
/// </summary>
public sealed class PortMap
{
    private readonly Dictionary<int, IPEndPoint> _entries = [];

    public IReadOnlyDictionary<int, IPEndPoint> Entries => _entries;

    public IPAddress DefaultAddress { get; init; } = IPAddress.Loopback;

    /// <summary>Maps a guest port; host port 0 lets the host pick one, reported through the stack's Bound event.</summary>
    public void Add(int guestPort, IPEndPoint host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (guestPort is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(guestPort), guestPort, "a guest port is 1..65535");
        }

        if (!_entries.TryAdd(guestPort, host))
        {
            throw new ArgumentException($"guest port {guestPort} is mapped twice", nameof(guestPort));
        }
    }

    /// <summary>
    /// Parses <c>GUEST:HOST</c> or <c>GUEST:ADDR:HOST</c>; false with a reason when malformed. Host port 0 lets the host
    /// pick a free port (reported once the guest binds), which is how many VMs on one host avoid colliding.
    /// </summary>
    public static bool TryParseEntry(string text, out int guestPort, out IPEndPoint? host, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        guestPort = 0;
        host = null;
        var parts = text.Split(':');
        if (parts.Length is not (2 or 3))
        {
            error = $"'{text}' is not GUEST:HOST or GUEST:ADDR:HOST";
            return false;
        }

        if (!TryPort(parts[0], 1, out guestPort) || !TryPort(parts[^1], 0, out var hostPort))
        {
            error = $"'{text}': the guest port is 1..65535 and the host port 0..65535 (0: the host picks one)";
            return false;
        }

        // Dotted quads only: IPAddress.TryParse also takes "2" (0.0.0.2), which would turn a typo into a bind address.
        var address = IPAddress.Loopback;
        if (parts.Length == 3 && (parts[1].Count(c => c == '.') != 3 || !IPAddress.TryParse(parts[1], out address)))
        {
            error = $"'{text}': '{parts[1]}' is not an IPv4 address";
            return false;
        }

        host = new IPEndPoint(address!, hostPort);
        error = null;
        return true;
    }

    /// <summary>A whole list of entries, as <c>--port</c> options or an API request give them; each problem is one message.</summary>
    public static bool TryParse(IEnumerable<string> entries, out PortMap map, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(entries);
        map = new PortMap();
        var problems = new List<string>();
        foreach (var entry in entries)
        {
            if (!TryParseEntry(entry, out var guestPort, out var host, out var error))
            {
                problems.Add(error!);
            }
            else if (map.Entries.ContainsKey(guestPort))
            {
                problems.Add($"guest port {guestPort} is mapped twice");
            }
            else
            {
                map.Add(guestPort, host!);
            }
        }

        errors = problems;
        return problems.Count == 0;
    }

    public IPEndPoint Resolve(GuestEndpoint local)
    {
        ArgumentNullException.ThrowIfNull(local);
        if (_entries.TryGetValue(local.Port, out var mapped))
        {
            return mapped;
        }

        var address = local.Family == VirtualAddressFamily.IPv6 ? IPAddress.IPv6Loopback : DefaultAddress;
        return new IPEndPoint(address, local.Port);
    }

    private static bool TryPort(string text, int minimum, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port >= minimum && port <= 65535;
}
