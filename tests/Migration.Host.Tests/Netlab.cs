namespace Migration.Host.Tests;

/// <summary>
/// <c>tools/netlab.sh</c> with a prefix and subnet of the test's own, so it never meets a lab someone else runs:
/// namespaces PREFIX-a, PREFIX-b (hosts, .1 and .2, interface mig0) and PREFIX-c (client .3, the bridge).
/// </summary>
internal sealed class Netlab : IDisposable
{
    private readonly Dictionary<string, string?> _environment;

    private Netlab(string prefix, string subnet)
    {
        Prefix = prefix;
        Subnet = subnet;
        _environment = new() { ["NETLAB_PREFIX"] = prefix, ["NETLAB_SUBNET"] = subnet };
    }

    public string Prefix { get; }

    public string Subnet { get; }

    public string HostA => Prefix + "-a";

    public string HostB => Prefix + "-b";

    public string Client => Prefix + "-c";

    public string Address(int host) => $"{Subnet}.{host}";

    /// <summary>Null when namespaces can be made here; otherwise why not, in one line.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return "network namespaces need root";
        }

        return ProcessRunner.Find("ip") is null ? "iproute2 (ip) is not installed" : null;
    }

    /// <summary>Builds the lab (after removing any leftover of an earlier run with the same prefix).</summary>
    public static async Task<Netlab> UpAsync(string prefix, string subnet)
    {
        var lab = new Netlab(prefix, subnet);
        await lab.RunAsync("down");
        try
        {
            await lab.RunAsync("up");
        }
        catch
        {
            lab.Dispose();
            throw;
        }

        return lab;
    }

    /// <summary>Removes the namespaces, also after a failed test.</summary>
    public void Dispose() => RunAsync("down").GetAwaiter().GetResult();

    private async Task RunAsync(string command)
    {
        var (code, _, error) = await ProcessRunner.RunAsync(Path.Combine(RepositoryPaths.Root, "tools", "netlab.sh"), [command], TimeSpan.FromSeconds(60), _environment);
        Assert.True(code == 0, $"tools/netlab.sh {command} exited {code}: {error}");
    }
}
