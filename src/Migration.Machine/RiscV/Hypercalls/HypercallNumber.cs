namespace Migration.Machine.RiscV.Hypercalls;

/// <summary>
/// Hypercall numbers (a7). Arguments in a0–a5, result in a0, negative results are -errno.
/// Kept in step with <c>src/guests/sdk/migration.h</c>; 16 and above are reserved for socket calls.
/// </summary>
public enum HypercallNumber : ulong
{
    Exit = 0,
    ConsoleWrite = 1,
    ClockMonotonic = 2,
    Yield = 3,

    /// <summary>Blocks until the guest clock reaches an absolute deadline, so a restarted call waits no longer than the first.</summary>
    SleepUntil = 4,
}
