using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Migration.Networking.Repair;

/// <summary>
/// Drops TCP packets addressed to given host endpoints while a connection has no socket (between its freeze and its
/// restore), so the kernel does not answer the peer's segments with a reset: the peer retransmits later instead. Built on
/// an nftables set whose elements expire on their own, so a lock left by a process that died lifts itself.
/// </summary>
/// <remarks>
/// Talks to libnftables in-process: a rule change costs well under a millisecond, where starting the nft program costs
/// about ten — and both changes sit inside the migration's downtime.
/// </remarks>
public sealed partial class NetworkLock : IDisposable
{
    public const string TableName = "migration_lock";

    /// <summary>
    /// The table declared whole, the rule list flushed and written again: idempotent however many hosts run it. Every
    /// lock and unlock carries it in the same atomic batch, so a table another host removed meanwhile is simply there again.
    /// </summary>
    private const string Declaration =
        $$"""
        add table inet {{TableName}}
        add set inet {{TableName}} endpoints4 { type ipv4_addr . inet_service; flags timeout; }
        add set inet {{TableName}} endpoints6 { type ipv6_addr . inet_service; flags timeout; }
        add set inet {{TableName}} users { type mark; }
        add chain inet {{TableName}} prerouting { type filter hook prerouting priority -300; policy accept; }
        flush chain inet {{TableName}} prerouting
        add rule inet {{TableName}} prerouting ip daddr . tcp dport @endpoints4 drop
        add rule inet {{TableName}} prerouting ip6 daddr . tcp dport @endpoints6 drop

        """;

    private static int s_joined;

    private readonly Lock _gate = new();
    private nint _context;

    private NetworkLock(nint context) => _context = context;

    /// <summary>How long a lock holds if nobody lifts it.</summary>
    public TimeSpan Expiry { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Opens libnftables and makes sure the table, its sets and its rule exist.</summary>
    /// <exception cref="NetworkLockException">nftables is missing or refuses (no CAP_NET_ADMIN).</exception>
    public static NetworkLock Open()
    {
        nint context;
        try
        {
            context = NftCtxNew(0);
        }
        catch (DllNotFoundException e)
        {
            throw new NetworkLockException("the network lock needs libnftables (Debian package nftables), which is not installed", e);
        }

        if (context == 0)
        {
            throw new NetworkLockException("libnftables could not create a context");
        }

        if (NftCtxBufferOutput(context) != 0 || NftCtxBufferError(context) != 0)
        {
            NftCtxFree(context);
            throw new NetworkLockException("libnftables could not buffer its output");
        }

        var networkLock = new NetworkLock(context);
        try
        {
            networkLock.Run(Declaration, "setting up the lock table");
        }
        catch
        {
            networkLock.Dispose();
            throw;
        }

        return networkLock;
    }

    /// <summary>Removes the table (and every lock in it); for tests and for tidy hosts.</summary>
    public static void RemoveTable()
    {
        using var networkLock = Open();
        networkLock.Run($"delete table inet {TableName}", "removing the lock table");
    }

    /// <summary>Packets to these endpoints are dropped from now until <see cref="Unlock"/> or the expiry.</summary>
    public void Lock(IEnumerable<IPEndPoint> endpoints)
    {
        var commands = Commands(endpoints, (set, element) => $"add element inet {TableName} {set} {{ {element} timeout {(int)Expiry.TotalSeconds}s }}");
        if (commands.Length > 0)
        {
            Run(Declaration + commands, "locking");
        }
    }

    /// <summary>Lifts the lock on these endpoints; an endpoint that was not locked (or whose lock expired) is fine.</summary>
    public void Unlock(IEnumerable<IPEndPoint> endpoints)
    {
        // "delete" fails on a missing element and would undo the whole batch: adding it first makes each deletion valid.
        var commands = Commands(endpoints, (set, element) =>
            $"add element inet {TableName} {set} {{ {element} timeout 1s }}\ndelete element inet {TableName} {set} {{ {element} }}");
        if (commands.Length > 0)
        {
            Run(Declaration + commands, "unlocking");
        }
    }

    /// <summary>
    /// Registers this process as a user of the shared table (a long-lived host does): another host that stops then leaves
    /// the table in place, see <see cref="Leave"/>.
    /// </summary>
    public void Join()
    {
        Run($"{Declaration}add element inet {TableName} users {{ {Environment.ProcessId} }}\n", "joining the lock table");
        Interlocked.Increment(ref s_joined);
    }

    /// <summary>
    /// Unregisters this process and removes the table when no live process is registered and no endpoint is locked, so
    /// hosts that stop leave no firewall rules behind. Users whose process is gone (killed) are forgotten here.
    /// </summary>
    /// <returns>Whether the table was removed.</returns>
    /// <remarks>
    /// Between the listing and the removal another process may lock an endpoint; that window is microseconds, and a
    /// process that has not joined re-creates the table with its next lock (see <see cref="Declaration"/>).
    /// </remarks>
    public bool Leave()
    {
        // Several hosts in one process (tests) are one user: the process stays registered until its last host leaves.
        if (Interlocked.Decrement(ref s_joined) > 0)
        {
            return false;
        }

        // Added first, as in Unlock: a deletion of a missing element would undo the batch.
        Run($"{Declaration}{ForgetUsers([Environment.ProcessId])}", "leaving the lock table");
        var listing = Run($"list set inet {TableName} users", "listing the lock table's users");
        var alive = new List<long>();
        var gone = new List<long>();
        foreach (Match match in UserPattern().Matches(listing))
        {
            var pid = long.Parse(match.Groups[1].Value, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            (Directory.Exists($"/proc/{pid}") ? alive : gone).Add(pid);
        }

        if (gone.Count > 0)
        {
            Run(ForgetUsers(gone), "forgetting users that are gone");
        }

        if (alive.Count > 0 || Locked().Count > 0)
        {
            return false;
        }

        Run($"delete table inet {TableName}", "removing the lock table");
        return true;
    }

    /// <summary>The endpoints locked now, as nftables lists them (for tests and diagnostics).</summary>
    public IReadOnlyList<IPEndPoint> Locked()
    {
        var output = Run($"list table inet {TableName}", "listing the lock");
        var result = new List<IPEndPoint>();
        foreach (Match match in ElementPattern().Matches(output))
        {
            if (IPAddress.TryParse(match.Groups[1].Value, out var address) && int.TryParse(match.Groups[2].Value, out var port))
            {
                result.Add(new IPEndPoint(address, port));
            }
        }

        return result;
    }

    /// <summary><see cref="Leave"/>, then <see cref="Dispose"/> even when leaving fails: the end of a host that joined.</summary>
    /// <exception cref="NetworkLockException">nftables refused to leave; the table stays (its entries still expire).</exception>
    public void LeaveAndDispose()
    {
        try
        {
            Leave();
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_context != 0)
            {
                NftCtxFree(_context);
                _context = 0;
            }
        }
    }

    private static string ForgetUsers(IEnumerable<long> pids)
    {
        var list = string.Join(", ", pids);
        return $"add element inet {TableName} users {{ {list} }}\ndelete element inet {TableName} users {{ {list} }}\n";
    }

    private static string Commands(IEnumerable<IPEndPoint> endpoints, Func<string, string, string> command)
    {
        var text = new StringBuilder();
        foreach (var endpoint in endpoints.Distinct())
        {
            var set = endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? "endpoints6" : "endpoints4";
            text.AppendLine(command(set, $"{endpoint.Address} . {endpoint.Port}"));
        }

        return text.ToString();
    }

    private string Run(string commands, string what)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_context == 0, this);
            var result = NftRunCmdFromBuffer(_context, commands);
            var output = Marshal.PtrToStringUTF8(NftCtxGetOutputBuffer(_context)) ?? "";
            if (result != 0)
            {
                var error = (Marshal.PtrToStringUTF8(NftCtxGetErrorBuffer(_context)) ?? "").Trim();
                var firstLine = error.Split('\n', 2)[0];
                throw new NetworkLockException($"network lock: {what} failed: {(firstLine.Length > 0 ? firstLine : "nftables refused")}{(error.Contains("Operation not permitted", StringComparison.Ordinal) ? " (needs CAP_NET_ADMIN)" : "")}");
            }

            return output;
        }
    }

    [GeneratedRegex(@"([0-9a-fA-F:.]+) \. (\d+)")]
    private static partial Regex ElementPattern();

    [GeneratedRegex(@"0x([0-9a-fA-F]{1,8})\b")]
    private static partial Regex UserPattern();

    [LibraryImport("libnftables.so.1", EntryPoint = "nft_ctx_new")]
    private static partial nint NftCtxNew(uint flags);

    [LibraryImport("libnftables.so.1", EntryPoint = "nft_ctx_free")]
    private static partial void NftCtxFree(nint context);

    [LibraryImport("libnftables.so.1", EntryPoint = "nft_ctx_buffer_output")]
    private static partial int NftCtxBufferOutput(nint context);

    [LibraryImport("libnftables.so.1", EntryPoint = "nft_ctx_buffer_error")]
    private static partial int NftCtxBufferError(nint context);

    [LibraryImport("libnftables.so.1", EntryPoint = "nft_ctx_get_output_buffer")]
    private static partial nint NftCtxGetOutputBuffer(nint context);

    [LibraryImport("libnftables.so.1", EntryPoint = "nft_ctx_get_error_buffer")]
    private static partial nint NftCtxGetErrorBuffer(nint context);

    [LibraryImport("libnftables.so.1", EntryPoint = "nft_run_cmd_from_buffer", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NftRunCmdFromBuffer(nint context, string buffer);
}
