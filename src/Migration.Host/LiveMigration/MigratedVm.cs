using System.Globalization;
using System.Net;
using MessagePack;
using Migration.Core.Sockets;
using Migration.Core.State;
using Migration.Host.Vms;

namespace Migration.Host.LiveMigration;

/// <summary>
/// The daemon's own section in a migration stream (<c>vm</c>, version 1): what the destination needs to keep the VM's
/// identity — id, name, creation time, the guest it came from and its port map.
/// </summary>
[MessagePackObject]
public sealed class MigratedVm
{
    public const string SectionName = "vm";
    public const int SectionVersion = 1;

    [Key(0)]
    public string Id { get; set; } = "";

    [Key(1)]
    public string Name { get; set; } = "";

    [Key(2)]
    public string? Guest { get; set; }

    [Key(3)]
    public List<string> Arguments { get; set; } = [];

    [Key(4)]
    public long CreatedUnixMilliseconds { get; set; }

    /// <summary>Port mappings in the command line's syntax, <c>GUEST:ADDR:HOST</c>.</summary>
    [Key(5)]
    public List<string> Ports { get; set; } = [];

    [Key(6)]
    public string? RestoredFrom { get; set; }

    /// <summary><c>ADDR/PREFIX@INTERFACE</c>; the destination claims it when the VM starts there.</summary>
    [Key(7)]
    public string? ServiceAddress { get; set; }

    public static StateSection ToSection(VmSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var vm = new MigratedVm
        {
            Id = spec.Id,
            Name = spec.Name,
            Guest = spec.Guest,
            Arguments = [.. spec.Arguments],
            CreatedUnixMilliseconds = spec.CreatedAt.ToUnixTimeMilliseconds(),
            Ports = [.. spec.Ports.Entries.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Key}:{e.Value.Address}:{e.Value.Port}"))],
            RestoredFrom = spec.RestoredFrom,
            ServiceAddress = spec.ServiceAddress,
        };
        return SectionCodec.Encode(SectionName, SectionVersion, vm);
    }

    /// <summary>The spec the destination registers the VM under; a section that does not make one is refused by field.</summary>
    public static VmSpec FromSection(StateSection? section)
    {
        if (section is null)
        {
            throw new StateSectionException(SectionName, "missing: the source is not a host daemon, or an older one");
        }

        var vm = SectionCodec.Decode<MigratedVm>(section, SectionVersion);
        var ports = new PortMap();
        foreach (var entry in vm.Ports)
        {
            if (!PortMap.TryParseEntry(entry, out var guestPort, out var host, out var error) || ports.Entries.ContainsKey(guestPort))
            {
                throw new StateSectionException(SectionName, $"Ports: {error ?? $"guest port {guestPort} is mapped twice"}");
            }

            ports.Add(guestPort, host ?? new IPEndPoint(IPAddress.Loopback, 0));
        }

        return new VmSpec(vm.Id, vm.Name, vm.Guest, vm.Arguments, DateTimeOffset.FromUnixTimeMilliseconds(vm.CreatedUnixMilliseconds), ports, vm.RestoredFrom, vm.ServiceAddress);
    }
}
