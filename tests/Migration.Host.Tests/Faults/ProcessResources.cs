using System.Globalization;

namespace Migration.Host.Tests.Faults;

/// <summary>What a live process holds, read from /proc: its threads by name and its TCP sockets, to find leaks after a fault.</summary>
internal static class ProcessResources
{
    private const string Listen = "0A";
    private const string TimeWait = "06";

    public static int Threads(int pid) => Directory.GetDirectories($"/proc/{pid}/task").Length;

    /// <summary>Threads whose name (as the kernel keeps it, at most 15 bytes) is <paramref name="name"/>.</summary>
    public static int ThreadsNamed(int pid, string name)
    {
        var count = 0;
        foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == name)
                {
                    count++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The thread ended between the listing and the read.
            }
        }

        return count;
    }

    /// <summary>
    /// The process's TCP sockets with <paramref name="port"/> at either end, other than listeners, as "local remote state"
    /// lines; sockets in TIME_WAIT belong to no process and are not counted.
    /// </summary>
    public static IReadOnlyList<string> ConnectionsOn(int pid, int port)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target[8..^1]);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The descriptor was closed between the listing and the read.
            }
        }

        var found = new List<string>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var (local, remote, state, inode) = (fields[1], fields[2], fields[3], fields[9]);
                if (state is Listen or TimeWait || !inodes.Contains(inode))
                {
                    continue;
                }

                if (PortOf(local) == port || PortOf(remote) == port)
                {
                    found.Add($"{local} {remote} state {state}");
                }
            }
        }

        return found;
    }

    private static int PortOf(string address) => int.Parse(address[(address.LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
