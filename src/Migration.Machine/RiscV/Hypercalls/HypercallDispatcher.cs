using Migration.Core.Memory;
using Migration.Machine.RiscV.Devices;

namespace Migration.Machine.RiscV.Hypercalls;

/// <summary>
/// Carries out a guest's ecall. Every guest pointer and length is checked against RAM first: a bad one
/// returns -EFAULT to the guest and never reaches host memory.
/// </summary>
internal sealed class HypercallDispatcher(GuestMemory memory, GuestClock clock, Stream console, SocketHypercalls? sockets)
{
    public const int ArgumentRegister0 = 10;
    public const int NumberRegister = 17;

    /// <summary>One console write is capped so a guest cannot make the host buffer unbounded output in one call.</summary>
    public const int MaxConsoleWrite = 1 << 20;

    private long _consoleBytesWritten;

    /// <summary>
    /// Bytes the guest has written to its console over its whole life, across checkpoints: a restored machine
    /// starts from the captured count, so output before a capture and after a resume can be joined exactly.
    /// </summary>
    public long ConsoleBytesWritten
    {
        get => Volatile.Read(ref _consoleBytesWritten);
        init => _consoleBytesWritten = value;
    }

    public HypercallOutcome Dispatch(ulong number, ReadOnlySpan<ulong> args)
    {
        switch ((HypercallNumber)number)
        {
            case HypercallNumber.Exit:
                return HypercallOutcome.Exit((long)args[0]);
            case HypercallNumber.ConsoleWrite:
                return ConsoleWrite(args[0], args[1]);
            case HypercallNumber.ClockMonotonic:
                return HypercallOutcome.Complete(clock.NowNanoseconds);
            case HypercallNumber.Yield:
                Thread.Yield();
                return HypercallOutcome.Complete(0);
            case HypercallNumber.SleepUntil:
                var deadline = (long)Math.Min(args[0], long.MaxValue);
                return clock.NowNanoseconds >= deadline ? HypercallOutcome.Complete(0) : HypercallOutcome.Block(deadline);
            case >= HypercallNumber.Socket and <= HypercallNumber.SetBlocking when sockets is not null:
                return sockets.Dispatch((HypercallNumber)number, args);
            default:
                return HypercallOutcome.Error(Errno.ENOSYS);
        }
    }

    private HypercallOutcome ConsoleWrite(ulong address, ulong length)
    {
        var count = Math.Min(length, MaxConsoleWrite);
        if (!memory.TryGetSpan(address, count, out var bytes))
        {
            return HypercallOutcome.Error(Errno.EFAULT);
        }

        console.Write(bytes);
        console.Flush();
        // Only the vCPU thread writes; counted after the write so the count never covers bytes the console refused.
        Volatile.Write(ref _consoleBytesWritten, _consoleBytesWritten + (long)count);
        return HypercallOutcome.Complete((long)count);
    }
}
