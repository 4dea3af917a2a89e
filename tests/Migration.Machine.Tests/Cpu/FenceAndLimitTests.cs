using Migration.Machine.RiscV;
using static Migration.Machine.Tests.Cpu.Asm;
using static Migration.Machine.Tests.Cpu.TestMachine;

namespace Migration.Machine.Tests.Cpu;

public class FenceAndLimitTests
{
    [Theory]
    [InlineData(0b1111, 0b1111)]
    [InlineData(0b0011, 0b0001)]
    [InlineData(0b0000, 0b0000)]
    public void Fence_is_a_no_op_that_retires(int predecessor, int successor)
    {
        var code = new CodeBuilder().Li(S1, 5).Emit(Fence(predecessor, successor), Addi(S1, S1, 1), Csrr(S2, CsrAddress.Minstret));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(6UL, machine[S1]);
        Assert.Equal(3UL, machine[S2]);
    }

    [Fact]
    public void Fence_tso_is_accepted_as_a_fence()
    {
        var code = new CodeBuilder().Emit(0x8330_000Fu, Addi(S1, Zero, 1));
        Assert.Equal(1UL, RunFor(S1, code));
    }

    [Fact]
    public void Fence_i_makes_a_patched_instruction_visible()
    {
        // First pass runs "addi s1, s1, 1" at the target; then the program overwrites it with
        // "addi s1, s1, 100", executes fence.i and runs the same address again.
        var code = new CodeBuilder()
            .La(T2, "target")
            .Li(T3, Addi(S1, S1, 100))
            .Label("target")
            .Emit(Addi(S1, S1, 1))
            .Emit("done", offset => Bne(T1, Zero, offset))
            .Emit(Addi(T1, Zero, 1), Sw(T3, T2, 0), FenceI())
            .Emit("target", offset => J(offset))
            .Label("done");
        Assert.Equal(101UL, RunFor(S1, code));
    }

    [Fact]
    public void Fence_i_makes_a_patched_instruction_on_another_page_visible()
    {
        const ulong routine = RamBase + 0x3000;
        var code = new CodeBuilder()
            .Li(T2, (long)routine)
            .Li(T3, Addi(S1, S1, 100))
            .Emit(Jalr(Ra, T2, 0), Sw(T3, T2, 0), FenceI(), Jalr(Ra, T2, 0));
        using var machine = Run(code.Exit(0), data: [Code(routine, Addi(S1, S1, 1), Ret())]);
        machine.AssertExited(0);
        Assert.Equal(101UL, machine[S1]);
    }

    [Fact]
    public void A_patched_system_instruction_runs_as_its_new_self()
    {
        // The decoded page still says "csrr" at the target, but the word in memory is now an addi:
        // the slow path notices the difference and runs the new instruction (no fence.i needed here).
        var code = new CodeBuilder()
            .La(T2, "target")
            .Li(T3, Addi(S1, S1, 100))
            .Label("target")
            .Emit(Csrr(S2, CsrAddress.Mscratch))
            .Emit("done", offset => Bne(T1, Zero, offset))
            .Emit(Addi(T1, Zero, 1), Sw(T3, T2, 0))
            .Emit("target", offset => J(offset))
            .Label("done");
        Assert.Equal(100UL, RunFor(S1, code));
    }

    [Fact]
    public void An_endless_loop_stops_exactly_at_the_instruction_limit()
    {
        using var machine = Run(new CodeBuilder().Label("loop").Emit(Addi(S1, S1, 1)).Emit("loop", offset => J(offset)), maxInstructions: 1000);
        Assert.Equal(MachineExitKind.InstructionLimit, machine.Exit!.Kind);
        Assert.Equal(1000UL, machine.Exit.InstructionsRetired);
        Assert.Equal(500UL, machine[S1]);
        Assert.Equal(2, machine.Exit.ProcessExitCode);
    }

    [Fact]
    public void Straight_line_code_stops_at_the_limit_within_one_page()
    {
        var code = new CodeBuilder().Emit(Enumerable.Repeat(Addi(S1, S1, 1), 3000).ToArray()).Exit(0);
        using var machine = Run(code, maxInstructions: 100);
        Assert.Equal(MachineExitKind.InstructionLimit, machine.Exit!.Kind);
        Assert.InRange(machine.Exit.InstructionsRetired, 100UL, 1024UL);
        Assert.Equal(machine.Exit.InstructionsRetired, machine[S1]);
    }
}
