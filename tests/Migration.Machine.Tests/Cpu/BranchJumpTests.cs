using static Migration.Machine.Tests.Cpu.Asm;
using static Migration.Machine.Tests.Cpu.TestMachine;

namespace Migration.Machine.Tests.Cpu;

public class BranchJumpTests
{
    private const ulong Min = 0x8000_0000_0000_0000UL;
    private const ulong Max = 0x7FFF_FFFF_FFFF_FFFFUL;
    private const ulong AllOnes = ulong.MaxValue;

    private static readonly Dictionary<string, Func<int, int, long, uint>> Branches = new()
    {
        ["beq"] = Beq, ["bne"] = Bne, ["blt"] = Blt, ["bge"] = Bge, ["bltu"] = Bltu, ["bgeu"] = Bgeu,
    };

    [Theory]
    [InlineData("beq", 5UL, 5UL, true)]
    [InlineData("beq", 5UL, 6UL, false)]
    [InlineData("beq", AllOnes, AllOnes, true)]
    [InlineData("beq", 0x1_0000_0000UL, 0UL, false)]
    [InlineData("bne", 5UL, 5UL, false)]
    [InlineData("bne", 5UL, 6UL, true)]
    [InlineData("bne", Min, 0UL, true)]
    [InlineData("blt", AllOnes, 0UL, true)]
    [InlineData("blt", 0UL, AllOnes, false)]
    [InlineData("blt", Min, Max, true)]
    [InlineData("blt", Max, Min, false)]
    [InlineData("blt", 5UL, 5UL, false)]
    [InlineData("bge", AllOnes, 0UL, false)]
    [InlineData("bge", 0UL, AllOnes, true)]
    [InlineData("bge", 5UL, 5UL, true)]
    [InlineData("bge", Min, Min, true)]
    [InlineData("bge", Min, Max, false)]
    [InlineData("bltu", AllOnes, 0UL, false)]
    [InlineData("bltu", 0UL, AllOnes, true)]
    [InlineData("bltu", Max, Min, true)]
    [InlineData("bltu", 5UL, 5UL, false)]
    [InlineData("bgeu", AllOnes, 0UL, true)]
    [InlineData("bgeu", 0UL, AllOnes, false)]
    [InlineData("bgeu", 5UL, 5UL, true)]
    [InlineData("bgeu", Min, Max, true)]
    public void Conditional_branches_compare_signed_or_unsigned(string op, ulong rs1, ulong rs2, bool taken)
    {
        var code = new CodeBuilder()
            .Li(T0, rs1).Li(T1, rs2).Emit(Addi(T2, Zero, 1))
            .Emit("taken", offset => Branches[op](T0, T1, offset))
            .Emit(Addi(T2, Zero, 0))
            .Label("taken");
        Assert.Equal(taken ? 1UL : 0UL, RunFor(T2, code));
    }

    [Theory]
    [InlineData("beq", 0UL, 0UL)]
    [InlineData("bne", 0UL, 1UL)]
    [InlineData("blt", AllOnes, 0UL)]
    [InlineData("bge", 0UL, AllOnes)]
    [InlineData("bltu", 0UL, AllOnes)]
    [InlineData("bgeu", AllOnes, 0UL)]
    public void Backward_branches_loop(string op, ulong rs1, ulong rs2)
    {
        // Counts iterations in S1; the taken backward branch repeats the loop until S2 reaches 10.
        var code = new CodeBuilder()
            .Li(T0, rs1).Li(T1, rs2)
            .Label("loop")
            .Emit(Addi(S1, S1, 1), Addi(S2, Zero, 10))
            .Emit("done", offset => Beq(S1, S2, offset))
            .Emit("loop", offset => Branches[op](T0, T1, offset))
            .Label("done");
        Assert.Equal(10UL, RunFor(S1, code));
    }

    [Fact]
    public void Jal_links_the_next_address_and_jumps_forward_and_back()
    {
        var code = new CodeBuilder()
            .Emit("forward", offset => Jal(Ra, offset))
            .Label("back")
            .Emit(Addi(S2, Zero, 2))
            .Emit("end", offset => Jal(Zero, offset))
            .Label("forward")
            .Emit(Mv(S1, Ra), Addi(T0, Zero, 1))
            .Emit("back", offset => Jal(T1, offset))
            .Emit(Addi(T0, Zero, 99))
            .Label("end");
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        AssertHex(RamBase + 4, machine[S1]);
        AssertHex(code.AddressOf("forward") + 12, machine[T1]);
        Assert.Equal(2UL, machine[S2]);
        Assert.Equal(1UL, machine[T0]);
    }

    [Fact]
    public void Jal_reaches_far_code_in_both_directions()
    {
        const ulong far = RamBase + 0xF_0000;
        var code = new CodeBuilder().Emit(Jal(Ra, (long)(far - RamBase))).Label("back").Exit(0);
        var back = code.AddressOf("back");
        // At the far address: set a marker, then jump back over almost a megabyte with a negative offset.
        uint[] farCode = [Addi(S1, Zero, 7), Jal(Zero, (long)back - (long)(far + 4))];
        using var machine = Run(code, data: [Code(far, farCode)]);
        machine.AssertExited(0);
        Assert.Equal(7UL, machine[S1]);
        AssertHex(RamBase + 4, machine[Ra]);
    }

    [Fact]
    public void Jalr_adds_the_immediate_clears_bit_0_and_links()
    {
        var code = new CodeBuilder()
            .La(T0, "target")
            .Emit(Addi(T0, T0, 16 + 1))
            .Label("jalr")
            .Emit(Jalr(Ra, T0, -16))
            .Emit(Addi(S2, Zero, 99))
            .Label("target")
            .Emit(Addi(S1, Zero, 1));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(1UL, machine[S1]);
        Assert.Equal(0UL, machine[S2]);
        AssertHex(code.AddressOf("jalr") + 4, machine[Ra]);
    }

    [Fact]
    public void Jalr_with_rd_equal_to_rs1_jumps_to_the_old_value()
    {
        var code = new CodeBuilder()
            .La(T0, "target")
            .Label("jalr")
            .Emit(Jalr(T0, T0, 0))
            .Emit(Addi(S2, Zero, 99))
            .Label("target")
            .Emit(Addi(S1, Zero, 1));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(1UL, machine[S1]);
        Assert.Equal(0UL, machine[S2]);
        AssertHex(code.AddressOf("jalr") + 4, machine[T0]);
    }

    [Fact]
    public void Jal_and_jalr_to_x0_do_not_link()
    {
        var code = new CodeBuilder()
            .Emit("next", offset => Jal(Zero, offset))
            .Label("next")
            .La(T0, "after")
            .Emit(Jalr(Zero, T0, 0))
            .Label("after")
            .Emit(Add(S1, Zero, Zero));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(0UL, machine[Zero]);
        Assert.Equal(0UL, machine[S1]);
    }

    [Fact]
    public void Ret_returns_through_ra()
    {
        var code = new CodeBuilder()
            .Emit("function", offset => Jal(Ra, offset))
            .Emit(Addi(S2, S1, 1))
            .Emit("end", offset => J(offset))
            .Label("function")
            .Emit(Addi(S1, Zero, 41), Ret())
            .Label("end");
        Assert.Equal(42UL, RunFor(S2, code));
    }

    [Fact]
    public void Code_falls_through_and_branches_across_a_4_KiB_page_boundary()
    {
        const ulong boundary = RamBase + 0x1000;
        var code = new CodeBuilder()
            .PadTo(boundary - 8)
            // Page 0 → page 1 forward, taken branch.
            .Emit("page1", offset => Beq(Zero, Zero, offset))
            .Label("return")
            // Straight-line fall-through from the last word of page 0 into page 1.
            .Emit(Addi(S2, S2, 1))
            .Label("fallthrough")
            .Emit(Addi(S3, S3, 1))
            .Emit("end", offset => J(offset))
            .Label("page1")
            .Emit(Addi(S1, S1, 1))
            // Page 1 → page 0 backward.
            .Emit("return", offset => Bne(S1, Zero, offset))
            .Label("end");
        Assert.Equal(boundary - 8, code.AddressOf("page1") - 16);
        Assert.Equal(boundary, code.AddressOf("fallthrough"));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(1UL, machine[S1]);
        Assert.Equal(1UL, machine[S2]);
        Assert.Equal(1UL, machine[S3]);
    }

    [Fact]
    public void A_loop_spanning_a_page_boundary_runs_every_iteration()
    {
        const ulong boundary = RamBase + 0x2000;
        var code = new CodeBuilder()
            .Li(T0, 1000)
            .PadTo(boundary - 8)
            .Label("loop")
            .Emit(Addi(S1, S1, 1), Addi(S2, S2, 2))
            .Emit(Addi(S3, S3, 3), Addi(T0, T0, -1))
            .Emit("loop", offset => Bne(T0, Zero, offset));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(1000UL, machine[S1]);
        Assert.Equal(2000UL, machine[S2]);
        Assert.Equal(3000UL, machine[S3]);
    }

    [Theory]
    [InlineData("nop")]
    [InlineData("branch not taken")]
    [InlineData("jal")]
    [InlineData("ecall")]
    [InlineData("csrr")]
    [InlineData("fence.i")]
    [InlineData("ebreak")]
    public void The_last_word_of_a_page_continues_into_the_next_page(string kind)
    {
        const ulong boundary = RamBase + 0x1000;
        var code = TrapProgram.Begin().Emit(Addi(A7, Zero, 3)).PadTo(boundary - 4);
        code.Emit(kind switch
        {
            "nop" => Nop(),
            "branch not taken" => Beq(A7, Zero, -8),
            "jal" => Jal(Ra, 4),
            // With a handler installed an ecall traps; the handler resumes at the next page too.
            "ecall" => Ecall(),
            "csrr" => Csrr(S1, CsrAddress.Mhartid),
            "fence.i" => FenceI(),
            _ => Ebreak(),
        });
        Assert.Equal(boundary, code.Pc);
        code.Emit(Addi(S7, Zero, 1));
        using var machine = Run(code.End());
        machine.AssertExited(0);
        Assert.Equal(1UL, machine[S7]);
        if (kind == "jal")
        {
            AssertHex(boundary, machine[Ra]);
        }

        if (kind is "ecall" or "ebreak")
        {
            AssertHex(boundary - 4, machine[TrapProgram.Epc]);
        }
    }

    [Fact]
    public void A_taken_branch_in_the_last_word_of_a_page_loops_within_it()
    {
        const ulong boundary = RamBase + 0x1000;
        var code = new CodeBuilder().Li(T0, 5).PadTo(boundary - 8)
            .Label("loop")
            .Emit(Addi(T0, T0, -1))
            .Emit("loop", offset => Bne(T0, Zero, offset))
            .Emit(Addi(S1, Zero, 1));
        Assert.Equal(boundary, code.Pc - 4);
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(0UL, machine[T0]);
        Assert.Equal(1UL, machine[S1]);
    }

    [Fact]
    public void A_not_taken_branch_to_a_misaligned_target_does_not_trap()
    {
        var code = new CodeBuilder().Emit(Addi(T0, Zero, 1), Beq(T0, Zero, 6), Addi(S1, Zero, 5));
        Assert.Equal(5UL, RunFor(S1, code));
    }

    [Theory]
    [InlineData("jal")]
    [InlineData("branch")]
    [InlineData("jalr")]
    public void A_taken_jump_to_a_misaligned_target_traps_with_cause_0(string kind)
    {
        var body = TrapProgram.Begin().Emit(Addi(T1, Zero, 1)).La(T0, "aligned").Li(S7, 0x5EE5L);
        var jumpPc = body.Pc;
        var target = jumpPc + 6;
        body.Emit(kind switch
        {
            "jal" => Jal(S7, 6),
            "branch" => Bne(T1, Zero, 6),
            _ => Jalr(S7, T0, -2),
        });
        // Jalr's target is aligned - 2 = jumpPc + 6: the same target as the others, with bit 1 set.
        body.Emit(Nop()).Label("aligned").Emit(Nop());
        Assert.Equal(jumpPc + 8, body.AddressOf("aligned"));

        using var machine = TrapProgram.RunExpectingOneTrap(body);
        Assert.Equal(0UL, machine[TrapProgram.Cause]);
        AssertHex(jumpPc, machine[TrapProgram.Epc]);
        AssertHex(target, machine[TrapProgram.Tval]);
        Assert.Equal(0x5EE5UL, machine[S7]);
    }

    [Fact]
    public void Without_a_handler_a_misaligned_jump_stops_the_machine()
    {
        var code = new CodeBuilder().Li(T0, (long)RamBase + 0x102);
        var jalrPc = code.Pc;
        code.Emit(Jalr(Ra, T0, 0));
        using var machine = Run(code.Exit(0));
        var message = machine.AssertFaulted();
        Assert.Contains("misaligned instruction fetch", message, StringComparison.Ordinal);
        Assert.Contains("address 0x80000102", message, StringComparison.Ordinal);
        Assert.Contains($"pc 0x{jalrPc:x}", message, StringComparison.Ordinal);
        Assert.Equal(0UL, machine[Ra]);
    }

    [Fact]
    public void A_jump_outside_RAM_raises_an_instruction_access_fault_at_the_target()
    {
        // The handler resumes at ra, since mepc + 4 would be outside RAM too.
        var code = new CodeBuilder()
            .La(T6, "handler").Emit(Csrw(CsrAddress.Mtvec, T6))
            .Li(T0, 0x1000L)
            .Label("call")
            .Emit(Jalr(Ra, T0, 0))
            .Emit(Csrw(CsrAddress.Mtvec, Zero))
            .Exit(0)
            .Label("handler")
            .Emit(
                Csrr(S2, CsrAddress.Mcause),
                Csrr(S3, CsrAddress.Mepc),
                Csrr(S4, CsrAddress.Mtval),
                Csrw(CsrAddress.Mepc, Ra),
                Mret());
        using var machine = Run(code);
        machine.AssertExited(0);
        Assert.Equal(1UL, machine[S2]);
        AssertHex(0x1000, machine[S3]);
        AssertHex(0x1000, machine[S4]);
        AssertHex(code.AddressOf("call") + 4, machine[Ra]);
    }

    [Theory]
    [InlineData(0x1000UL)]
    [InlineData(RamBase - 4)]
    [InlineData(RamEnd)]
    [InlineData(0xFFFF_FFFF_FFFF_FFFCUL)]
    public void Without_a_handler_a_jump_outside_RAM_stops_the_machine(ulong target)
    {
        using var machine = Run(new CodeBuilder().Li(T0, target).Emit(Jalr(Zero, T0, 0)).Exit(0));
        var message = machine.AssertFaulted();
        Assert.Contains("instruction access fault", message, StringComparison.Ordinal);
        Assert.Contains($"0x{target:x}", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Falling_through_into_a_page_of_zeros_stops_on_an_illegal_instruction()
    {
        var code = new CodeBuilder().Li(T0, (long)(RamEnd - 0x2000)).Emit(Jalr(Zero, T0, 0));
        using var machine = Run(code, data: [Code(RamEnd - 0x2000, Enumerable.Repeat(Nop(), 1024).ToArray())]);
        var message = machine.AssertFaulted();
        Assert.Contains("illegal instruction 0x00000000", message, StringComparison.Ordinal);
        Assert.Contains($"pc 0x{RamEnd - 0x1000:x}", message, StringComparison.Ordinal);
    }
}
