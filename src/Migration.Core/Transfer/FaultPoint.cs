using System.Diagnostics;

namespace Migration.Core.Transfer;

/// <summary>
/// Named points in a live migration where a test makes this process die as a crashed host does (SIGKILL), to check
/// what the peer guarantees at each phase. Armed only by the environment variable <c>MIGRATION_FAULT=SIDE:POINT</c>
/// (e.g. <c>destination:round-1</c>) read once at start; unset, a point costs one comparison with null.
/// </summary>
public static class FaultPoint
{
    public const string Variable = "MIGRATION_FAULT";

    private static readonly string? Armed = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    /// <summary>True when a fault is armed; points whose name must be built check this first, so an unarmed build allocates nothing.</summary>
    public static bool IsArmed => Armed is not null;

    /// <summary>SIGKILLs this process if <paramref name="side"/>:<paramref name="point"/> is the armed fault.</summary>
    public static void Reach(string side, string point)
    {
        if (Armed is null || !string.Equals(Armed, $"{side}:{point}", StringComparison.Ordinal))
        {
            return;
        }

        Console.Error.WriteLine($"migration: fault injection: {Armed} reached, killing process {Environment.ProcessId} with SIGKILL");
        Console.Error.Flush();
        using var self = Process.GetCurrentProcess();
        self.Kill();
        // Kill returns before the signal lands; nothing after the point may run.
        Thread.Sleep(Timeout.Infinite);
    }
}
