using Migration.Core.Machines;
using Migration.Machine.RiscV;
using static Migration.Machine.Tests.Cpu.Asm;
using static Migration.Machine.Tests.Cpu.TestMachine;

namespace Migration.Machine.Tests.Cpu;

public class PauseResumeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    internal const ulong Counter = RamBase + 0x1_0000;

    /// <summary>An endless loop that publishes its iteration count to memory, so the host can see progress.</summary>
    internal static CodeBuilder CountingLoop() =>
        new CodeBuilder()
            .Li(S0, (long)Counter)
            .Label("loop")
            .Emit(Addi(S1, S1, 1), Sd(S1, S0, 0))
            .Emit("loop", offset => J(offset));

    [Fact]
    public async Task Pause_parks_the_vcpu_and_resume_continues_it()
    {
        using var test = Create(CountingLoop(), maxInstructions: ulong.MaxValue);
        var machine = test.Machine;
        machine.Start();
        Assert.True(SpinWait.SpinUntil(() => machine.Memory.ReadUInt64(Counter) != 0, Timeout));

        await machine.PauseAsync().WaitAsync(Timeout);
        Assert.Equal(MachineRunState.Paused, machine.State);
        var retired = machine.InstructionsRetired;
        var iterations = machine.GetRegister(S1);
        Assert.True(retired > 0);
        await Task.Yield();
        Assert.Equal(retired, machine.InstructionsRetired);
        Assert.Equal(iterations, machine.GetRegister(S1));
        Assert.Equal(iterations, machine.Memory.ReadUInt64(Counter));

        machine.Resume();
        // Wait for the guest's own evidence that it ran again before pausing a second time.
        Assert.True(SpinWait.SpinUntil(() => machine.Memory.ReadUInt64(Counter) != iterations, Timeout));
        await machine.PauseAsync().WaitAsync(Timeout);
        Assert.Equal(MachineRunState.Paused, machine.State);
        Assert.True(machine.InstructionsRetired > retired);
        Assert.True(machine.GetRegister(S1) > iterations);
        Assert.False(machine.Completion.IsCompleted);

        machine.Terminate();
        var exit = await machine.Completion.WaitAsync(Timeout);
        Assert.Equal(MachineExitKind.Terminated, exit.Kind);
        Assert.Equal(130, exit.ProcessExitCode);
    }

    [Fact]
    public async Task Pausing_a_guest_blocked_in_sleep_until_completes_promptly_with_pc_on_the_ecall()
    {
        var code = new CodeBuilder()
            .Hypercall(2)
            .Li(T0, 10_000_000_000L).Emit(Add(A0, A0, T0))
            .Li(A7, 4);
        var ecall = code.Pc;
        code.Emit(Ecall()).Exit(0);
        using var test = Create(code);
        var machine = test.Machine;
        machine.Start();
        Assert.True(SpinWait.SpinUntil(() => machine.Pc == ecall, Timeout), "the guest never reached the sleep");

        await machine.PauseAsync().WaitAsync(Timeout);
        Assert.Equal(MachineRunState.Paused, machine.State);
        Assert.Equal(ecall, machine.Pc);
        Assert.Equal(4UL, machine.GetRegister(A7));

        machine.Terminate();
        var exit = await machine.Completion.WaitAsync(Timeout);
        Assert.Equal(MachineExitKind.Terminated, exit.Kind);
        Assert.Equal(ecall, machine.Pc);
    }

    [Fact]
    public async Task A_blocked_guest_resumed_after_a_pause_sleeps_again_and_then_continues()
    {
        // A deadline 1 s ahead — long enough that a loaded machine still catches the guest inside the wait:
        // the pause interrupts it, the resumed ecall waits out the rest.
        var code = new CodeBuilder()
            .Hypercall(2)
            .Li(T0, 1_000_000_000L).Emit(Add(S1, A0, T0), Mv(A0, S1))
            .Li(A7, 4);
        var ecall = code.Pc;
        code.Emit(Ecall(), Mv(S2, A0)).Hypercall(2).Emit(Mv(S3, A0)).Exit(0);
        using var test = Create(code);
        var machine = test.Machine;
        machine.Start();
        Assert.True(SpinWait.SpinUntil(() => machine.Pc == ecall, Timeout));
        await machine.PauseAsync().WaitAsync(Timeout);
        machine.Resume();

        var exit = await machine.Completion.WaitAsync(Timeout);
        Assert.Equal(MachineExitKind.Exited, exit.Kind);
        Assert.Equal(0UL, machine.GetRegister(S2));
        Assert.True((long)machine.GetRegister(S3) >= (long)machine.GetRegister(S1));
    }

    [Fact]
    public async Task A_pause_requested_before_start_holds_the_guest_until_resumed()
    {
        using var test = Create(new CodeBuilder().Emit(Addi(S1, Zero, 9)).Exit(3));
        var machine = test.Machine;
        await machine.PauseAsync().WaitAsync(Timeout);
        machine.Start();
        Assert.Equal(MachineRunState.Paused, machine.State);
        Assert.Equal(0UL, machine.InstructionsRetired);

        machine.Resume();
        var exit = await machine.Completion.WaitAsync(Timeout);
        Assert.Equal(MachineExitKind.Exited, exit.Kind);
        Assert.Equal(3, exit.GuestExitCode);
        Assert.Equal(9UL, machine.GetRegister(S1));
    }

    [Fact]
    public async Task Terminate_stops_a_running_guest()
    {
        using var test = Create(CountingLoop(), maxInstructions: ulong.MaxValue);
        var machine = test.Machine;
        machine.Start();
        Assert.True(SpinWait.SpinUntil(() => machine.Memory.ReadUInt64(Counter) != 0, Timeout));

        machine.Terminate();
        var exit = await machine.Completion.WaitAsync(Timeout);
        Assert.Equal(MachineExitKind.Terminated, exit.Kind);
        Assert.True(exit.InstructionsRetired > 0);
    }
}
