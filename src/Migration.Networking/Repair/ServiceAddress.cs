using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Migration.Networking.Repair;

/// <summary>
/// The address a VM's clients reach it at when hosts have network stacks of their own (separate namespaces on one
/// bridge): it sits on the interface of whichever host runs the VM, and moves with it. The source takes it off once its
/// connections are frozen; the destination puts it on once their sockets exist again (bound with IP_FREEBIND), announces
/// it with a gratuitous ARP, and only then leaves repair mode. Until then the peer's segments reach a host that does not
/// own the address and drops them — no reset, and so no network lock is needed.
/// </summary>
/// <remarks>
/// Changes go through iproute2's <c>ip</c>, bounded by <see cref="CommandLimit"/>: a few milliseconds each, in the switch-over,
/// for one address per migration; rtnetlink in-process would save those milliseconds at the price of a netlink codec.
/// </remarks>
public sealed class ServiceAddress
{
    private static readonly TimeSpan CommandLimit = TimeSpan.FromSeconds(3);

    private ServiceAddress(IPAddress address, int prefixLength, string interfaceName)
    {
        Address = address;
        PrefixLength = prefixLength;
        Interface = interfaceName;
    }

    public IPAddress Address { get; }

    public int PrefixLength { get; }

    /// <summary>The interface's name, the same in every host's namespace (the toolkit's topology names it <c>mig0</c> everywhere).</summary>
    public string Interface { get; }

    /// <summary>Whether this host has the address on its interface now, put there by this object.</summary>
    public bool Held { get; private set; }

    /// <summary>Parses <c>ADDR/PREFIX@INTERFACE</c>, e.g. <c>10.77.0.100/24@mig0</c>.</summary>
    /// <exception cref="ServiceAddressException">The text names no IPv4 address, prefix or interface.</exception>
    public static ServiceAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.LastIndexOf('@');
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (at < 0 || slash < 0 || slash > at)
        {
            throw new ServiceAddressException($"service address '{text}' is not ADDR/PREFIX@INTERFACE (e.g. 10.77.0.100/24@mig0)");
        }

        var interfaceName = text[(at + 1)..];
        if (!IPAddress.TryParse(text[..slash], out var address) || address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ServiceAddressException($"service address '{text}': '{text[..slash]}' is not an IPv4 address (IPv6 would need neighbour advertisements, not done yet)");
        }

        if (!int.TryParse(text[(slash + 1)..at], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix is < 1 or > 32)
        {
            throw new ServiceAddressException($"service address '{text}': prefix '{text[(slash + 1)..at]}' is not 1..32");
        }

        if (interfaceName.Length is 0 or > 15 || interfaceName.Any(c => char.IsWhiteSpace(c) || c == '/' || char.IsControl(c)))
        {
            throw new ServiceAddressException($"service address '{text}': '{interfaceName}' is not an interface name (1 to 15 characters, no '/' or spaces)");
        }

        return new ServiceAddress(address, prefix, interfaceName);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Address}/{PrefixLength}@{Interface}");

    /// <summary>Puts the address on the interface (again, if it is there) and tells the link's neighbours where it is now.</summary>
    public void Claim()
    {
        Ip("addr", "replace", $"{Address}/{PrefixLength}", "dev", Interface);
        Held = true;
        GratuitousArp.Announce(Interface, Address);
    }

    /// <summary>Takes the address off the interface; an address that is not there is fine.</summary>
    public void Release()
    {
        Held = false;
        try
        {
            Ip("addr", "del", $"{Address}/{PrefixLength}", "dev", Interface);
        }
        catch (ServiceAddressException e) when (e.Message.Contains("Cannot assign requested address", StringComparison.Ordinal))
        {
            // Not on the interface: what was asked for.
        }
    }

    private static void Ip(params string[] arguments)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var command = "ip " + string.Join(' ', arguments);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new ServiceAddressException($"{command}: could not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ServiceAddressException($"{command}: {e.Message} (the service address needs iproute2)", e);
        }

        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(CommandLimit))
            {
                process.Kill();
                throw new ServiceAddressException($"{command}: no answer within {CommandLimit.TotalSeconds:0} s");
            }

            if (process.ExitCode != 0)
            {
                var message = error.Wait(CommandLimit) ? error.Result.Trim().Split('\n', 2)[0] : "";
                throw new ServiceAddressException($"{command}: exit code {process.ExitCode}: {message}");
            }
        }
    }
}
