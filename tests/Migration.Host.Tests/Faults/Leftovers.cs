namespace Migration.Host.Tests.Faults;

/// <summary>Checks that a daemon that survived a fault holds nothing of the failed migration any more.</summary>
internal static class Leftovers
{
    // Thread-pool threads the transfer woke retire in their own time; a leak per migration is what this bounds.
    private const int ThreadSlack = 24;

    /// <param name="migrationPort">The port the failed migration's connection used (the destination's migration port).</param>
    /// <param name="baselineThreads">The daemon's thread count before the migration started.</param>
    /// <param name="vcpus">VMs that run on it now, each with one vCPU thread.</param>
    public static async Task AssertNoneAsync(DaemonProcess host, int migrationPort, int baselineThreads, int vcpus, string directory)
    {
        var pid = host.ProcessId;
        await Eventually.UntilAsync(
            () => Task.FromResult(ProcessResources.ConnectionsOn(pid, migrationPort)),
            open => open.Count == 0,
            $"the daemon closes its migration connection on port {migrationPort}");
        Assert.Equal(vcpus, ProcessResources.ThreadsNamed(pid, "vcpu0"));
        Assert.Equal(0, ProcessResources.ThreadsNamed(pid, "prefault"));
        var threads = ProcessResources.Threads(pid);
        Assert.True(threads <= baselineThreads + ThreadSlack, $"{threads} threads after the fault, {baselineThreads} before it");
        Assert.Empty(Directory.GetFiles(directory, "*.tmp", SearchOption.AllDirectories));
    }
}
