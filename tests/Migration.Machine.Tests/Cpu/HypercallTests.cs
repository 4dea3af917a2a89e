using System.Diagnostics;
using System.Text;
using static Migration.Machine.Tests.Cpu.Asm;
using static Migration.Machine.Tests.Cpu.TestMachine;

namespace Migration.Machine.Tests.Cpu;

public class HypercallTests
{
    private const int ConsoleWrite = 1, ClockMonotonic = 2, Yield = 3, SleepUntil = 4;
    private const long EFault = -14, ENoSys = -38;
    private const ulong DataAddress = RamBase + 0x1_0000;

    [Theory]
    [InlineData(0L)]
    [InlineData(42L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public void Exit_passes_a0_as_the_exit_code(long exitCode)
    {
        using var machine = Run(new CodeBuilder().Exit(exitCode));
        machine.AssertExited(exitCode);
        Assert.Equal((int)(exitCode & 0xFF), machine.Exit!.ProcessExitCode);
    }

    [Fact]
    public void Console_write_copies_guest_bytes_to_the_console_and_returns_the_count()
    {
        var text = Encoding.UTF8.GetBytes("hello, wörld\n");
        var code = new CodeBuilder()
            .Li(A0, (long)DataAddress).Li(A1, text.Length).Hypercall(ConsoleWrite).Emit(Mv(S1, A0))
            .Li(A0, (long)DataAddress).Li(A1, 5).Hypercall(ConsoleWrite).Emit(Mv(S2, A0));
        using var machine = Run(code.Exit(0), data: [Data(DataAddress, text)]);
        machine.AssertExited(0);
        Assert.Equal("hello, wörld\nhello", machine.ConsoleText);
        Assert.Equal((ulong)text.Length, machine[S1]);
        Assert.Equal(5UL, machine[S2]);
    }

    [Fact]
    public void Console_write_of_zero_bytes_writes_nothing()
    {
        var code = new CodeBuilder().Li(A0, (long)DataAddress).Li(A1, 0).Hypercall(ConsoleWrite).Emit(Mv(S1, A0));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(0UL, machine[S1]);
        Assert.Equal(0, machine.Console.Length);
    }

    [Theory]
    [InlineData(0x10UL, 4UL)]
    [InlineData(RamBase - 1, 2UL)]
    [InlineData(RamEnd - 2, 4UL)]
    [InlineData(RamEnd, 1UL)]
    [InlineData(RamBase + 1, ulong.MaxValue)]
    [InlineData(0xFFFF_FFFF_FFFF_FFFFUL, 2UL)]
    public void Console_write_outside_RAM_returns_EFAULT_and_the_guest_continues(ulong address, ulong length)
    {
        var code = new CodeBuilder().Li(A0, address).Li(A1, length).Hypercall(ConsoleWrite).Emit(Mv(S1, A0), Addi(S2, Zero, 1));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(EFault, (long)machine[S1]);
        Assert.Equal(1UL, machine[S2]);
        Assert.Equal(0, machine.Console.Length);
    }

    [Theory]
    [InlineData(5L)]
    [InlineData(16L)]
    [InlineData(99L)]
    [InlineData(-1L)]
    public void An_unknown_hypercall_returns_ENOSYS(long number)
    {
        var code = new CodeBuilder().Li(A0, 123).Li(A1, 456).Hypercall(number).Emit(Mv(S1, A0));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(ENoSys, (long)machine[S1]);
        // Only a0 carries the result; the other argument registers and a7 are left alone.
        Assert.Equal(456UL, machine[A1]);
    }

    [Fact]
    public void Clock_monotonic_increases()
    {
        // Polls until the clock moves (bounded by the instruction limit), then checks it moved forward.
        var code = new CodeBuilder()
            .Hypercall(ClockMonotonic).Emit(Mv(S1, A0))
            .Label("poll")
            .Hypercall(ClockMonotonic).Emit(Mv(S2, A0))
            .Emit("poll", offset => Beq(S1, S2, offset));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.True((long)machine[S1] > 0);
        Assert.True((long)machine[S2] > (long)machine[S1], $"{machine[S2]} after {machine[S1]}");
    }

    [Fact]
    public void Clock_monotonic_follows_the_machine_clock()
    {
        using var machine = Create(new CodeBuilder().Hypercall(ClockMonotonic).Emit(Mv(S1, A0)).Exit(0));
        machine.Machine.Clock.OffsetNanoseconds = 1_000_000_000_000_000;
        var before = machine.Machine.Clock.NowNanoseconds;
        machine.RunToCompletion();
        machine.AssertExited(0);
        Assert.InRange((long)machine[S1], before, machine.Machine.Clock.NowNanoseconds);
    }

    [Fact]
    public void Yield_returns_0()
    {
        var code = new CodeBuilder().Li(A0, 77).Hypercall(Yield).Emit(Mv(S1, A0));
        Assert.Equal(0UL, RunFor(S1, code));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(1_000_000_000L)]
    public void Sleep_until_a_past_deadline_returns_0_at_once(long deadline)
    {
        var code = new CodeBuilder().Li(A0, deadline).Hypercall(SleepUntil).Emit(Mv(S1, A0));
        var stopwatch = Stopwatch.StartNew();
        Assert.Equal(0UL, RunFor(S1, code));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Sleep_until_the_current_clock_returns_0_at_once()
    {
        var code = new CodeBuilder().Hypercall(ClockMonotonic).Hypercall(SleepUntil).Emit(Mv(S1, A0));
        Assert.Equal(0UL, RunFor(S1, code));
    }

    [Fact]
    public void Sleep_until_a_near_deadline_returns_once_the_clock_has_reached_it()
    {
        var code = new CodeBuilder()
            .Hypercall(ClockMonotonic)
            .Li(T0, 2_000_000).Emit(Add(S1, A0, T0), Mv(A0, S1))
            .Hypercall(SleepUntil).Emit(Mv(S2, A0))
            .Hypercall(ClockMonotonic).Emit(Mv(S3, A0));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(0UL, machine[S2]);
        Assert.True((long)machine[S3] >= (long)machine[S1]);
    }
}
