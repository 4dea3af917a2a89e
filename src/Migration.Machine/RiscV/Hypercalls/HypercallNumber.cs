namespace Migration.Machine.RiscV.Hypercalls;

/// <summary>
/// Hypercall numbers (a7). Arguments in a0–a5, result in a0, negative results are -errno.
/// Kept in step with <c>src/guests/sdk/migration.h</c>; 16–32 are the socket calls.
/// </summary>
public enum HypercallNumber : ulong
{
    Exit = 0,
    ConsoleWrite = 1,
    ClockMonotonic = 2,
    Yield = 3,

    /// <summary>Blocks until the guest clock reaches an absolute deadline, so a restarted call waits no longer than the first.</summary>
    SleepUntil = 4,

    Socket = 16,
    Bind = 17,
    Listen = 18,
    Accept = 19,
    Connect = 20,
    Send = 21,
    Receive = 22,
    SendTo = 23,
    ReceiveFrom = 24,
    Shutdown = 25,
    Close = 26,
    SetSocketOption = 27,
    GetSocketOption = 28,
    GetSocketName = 29,
    GetPeerName = 30,

    /// <summary>Waits for socket events until an absolute deadline (-1: none, 0: do not wait).</summary>
    PollUntil = 31,
    SetBlocking = 32,
}
