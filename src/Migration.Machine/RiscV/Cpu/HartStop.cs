namespace Migration.Machine.RiscV.Cpu;

internal enum HartStopKind
{
    /// <summary>A stop was requested or the instruction limit was reached; pc is at an instruction boundary.</summary>
    Stopped,

    /// <summary>A hypercall cannot complete yet; pc is on the ecall, which is issued again after the wait.</summary>
    Blocked,

    Exited,
    Faulted,
}

/// <summary>Why <see cref="Hart.Run"/> returned.</summary>
internal readonly record struct HartStop(HartStopKind Kind, long Value, string? Message)
{
    public static HartStop Stopped() => new(HartStopKind.Stopped, 0, null);

    public static HartStop Blocked(long wakeAtNanoseconds) => new(HartStopKind.Blocked, wakeAtNanoseconds, null);

    public static HartStop Exited(long code) => new(HartStopKind.Exited, code, null);

    public static HartStop Faulted(string message) => new(HartStopKind.Faulted, 0, message);
}
