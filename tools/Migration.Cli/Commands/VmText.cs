using System.Globalization;
using Migration.Host.Api;

namespace Migration.Cli.Commands;

/// <summary>How the vm commands word sizes, times, ports and exits.</summary>
internal static class VmText
{
    public static string Size(ulong bytes) => bytes switch
    {
        0 => "-",
        _ when bytes % (1UL << 30) == 0 => $"{bytes >> 30} GiB",
        _ when bytes % (1UL << 20) == 0 => $"{bytes >> 20} MiB",
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MiB"),
    };

    public static string Age(DateTimeOffset since)
    {
        var age = DateTimeOffset.UtcNow - since;
        return age.TotalSeconds < 60 ? $"{Math.Max(0, (int)age.TotalSeconds)}s"
            : age.TotalMinutes < 60 ? $"{(int)age.TotalMinutes}m"
            : age.TotalHours < 48 ? $"{(int)age.TotalHours}h"
            : $"{(int)age.TotalDays}d";
    }

    /// <summary><c>6379/tcp → 127.0.0.1:41977</c>; a mapping not bound yet shows what was asked for.</summary>
    public static string Port(VmPortInfo p) => p.Host is { } host
        ? $"{p.GuestPort}/{p.Protocol} -> {host}"
        : $"{p.GuestPort} -> {p.Requested} (not bound yet)";

    public static string Ports(VmInfo vm) => vm.Ports.Count == 0 ? "-" : string.Join(", ", vm.Ports.Select(Port));

    public static string State(VmInfo vm) => vm.Exit switch
    {
        null => vm.State.ToString(),
        { Kind: Migration.Machine.RiscV.MachineExitKind.Exited } e => $"{vm.State} ({e.Code})",
        _ => vm.State.ToString(),
    };

    public static string Exit(VmExitInfo e) => e.Kind switch
    {
        Migration.Machine.RiscV.MachineExitKind.Exited => $"exited with code {e.Code}",
        Migration.Machine.RiscV.MachineExitKind.Faulted => $"fault: {e.Message}",
        Migration.Machine.RiscV.MachineExitKind.InstructionLimit => "stopped at the instruction limit",
        _ => "stopped by the host",
    } + string.Create(CultureInfo.InvariantCulture, $" after {e.InstructionsRetired:N0} instructions, at {e.At:u}");
}
