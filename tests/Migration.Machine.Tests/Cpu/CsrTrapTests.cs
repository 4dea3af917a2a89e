using static Migration.Machine.Tests.Cpu.Asm;
using static Migration.Machine.Tests.Cpu.CsrAddress;
using static Migration.Machine.Tests.Cpu.TestMachine;

namespace Migration.Machine.Tests.Cpu;

public class CsrTrapTests
{
    private const ulong MstatusMie = 1UL << 3;
    private const ulong MstatusMpie = 1UL << 7;
    private const ulong MstatusMpp = 3UL << 11;

    [Fact]
    public void Misa_reports_rv64_with_I_and_M() =>
        AssertHex(0x8000_0000_0000_1100UL, RunFor(T0, new CodeBuilder().Emit(Csrr(T0, Misa))));

    [Theory]
    [InlineData(Mhartid)]
    [InlineData(Mvendorid)]
    [InlineData(Marchid)]
    [InlineData(Mimpid)]
    [InlineData(Mip)]
    public void Identification_csrs_read_zero(int csr) =>
        Assert.Equal(0UL, RunFor(T0, new CodeBuilder().Li(T0, -1L).Emit(Csrr(T0, csr))));

    [Fact]
    public void Mscratch_round_trips_a_full_64_bit_value()
    {
        var code = new CodeBuilder().Li(T0, unchecked((long)0xDEAD_BEEF_CAFE_F00DUL)).Emit(Csrw(Mscratch, T0), Csrr(T1, Mscratch));
        AssertHex(0xDEAD_BEEF_CAFE_F00DUL, RunFor(T1, code));
    }

    [Theory]
    [InlineData("csrrw", 0xF0F0UL, 0x0FF0UL, 0x0FF0UL)]
    [InlineData("csrrs", 0xF0F0UL, 0x0FF0UL, 0xFFF0UL)]
    [InlineData("csrrc", 0xF0F0UL, 0x0FF0UL, 0xF000UL)]
    [InlineData("csrrs", 0xF0F0UL, 0UL, 0xF0F0UL)]
    [InlineData("csrrc", 0xF0F0UL, 0UL, 0xF0F0UL)]
    public void Register_forms_return_the_old_value_and_update_the_csr(string op, ulong initial, ulong operand, ulong expected)
    {
        Func<int, int, int, uint> encode = op switch { "csrrw" => Csrrw, "csrrs" => Csrrs, _ => Csrrc };
        var code = new CodeBuilder()
            .Li(T0, initial).Emit(Csrw(Mscratch, T0))
            .Li(T1, operand).Emit(encode(T2, Mscratch, T1), Csrr(T3, Mscratch));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        AssertHex(initial, machine[T2]);
        AssertHex(expected, machine[T3]);
    }

    [Theory]
    [InlineData("csrrwi", 31, 31UL)]
    [InlineData("csrrwi", 0, 0UL)]
    [InlineData("csrrsi", 0x15, 0xF0F5UL)]
    [InlineData("csrrci", 0x1F, 0xF0E0UL)]
    [InlineData("csrrsi", 0, 0xF0F0UL)]
    [InlineData("csrrci", 0, 0xF0F0UL)]
    public void Immediate_forms_use_a_zero_extended_5_bit_value(string op, int uimm, ulong expected)
    {
        Func<int, int, int, uint> encode = op switch { "csrrwi" => Csrrwi, "csrrsi" => Csrrsi, _ => Csrrci };
        var code = new CodeBuilder()
            .Li(T0, 0xF0F0L).Emit(Csrw(Mscratch, T0))
            .Emit(encode(T2, Mscratch, uimm), Csrr(T3, Mscratch));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        AssertHex(0xF0F0UL, machine[T2]);
        AssertHex(expected, machine[T3]);
    }

    [Fact]
    public void Csrrw_with_rd_equal_to_rs1_swaps()
    {
        var code = new CodeBuilder()
            .Li(T0, 111).Emit(Csrw(Mscratch, T0))
            .Li(T0, 222).Emit(Csrrw(T0, Mscratch, T0), Csrr(T1, Mscratch));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(111UL, machine[T0]);
        Assert.Equal(222UL, machine[T1]);
    }

    [Fact]
    public void Csrrw_with_rd_x0_writes_without_reading()
    {
        var code = new CodeBuilder().Li(T0, 77).Emit(Csrrw(Zero, Mscratch, T0), Csrr(T1, Mscratch), Add(T2, Zero, Zero));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(77UL, machine[T1]);
        Assert.Equal(0UL, machine[T2]);
        Assert.Equal(0UL, machine[Zero]);
    }

    public static TheoryData<string, uint> ReadsOfReadOnlyCsrs => new()
    {
        { "csrrs rs1=x0", Csrrs(T0, Mhartid, Zero) },
        { "csrrc rs1=x0", Csrrc(T0, Mhartid, Zero) },
        { "csrrsi 0", Csrrsi(T0, Mhartid, 0) },
        { "csrrci 0", Csrrci(T0, Mhartid, 0) },
        { "cycle", Csrrs(T0, Cycle, Zero) },
        { "instret", Csrrs(T0, Instret, Zero) },
    };

    [Theory]
    [MemberData(nameof(ReadsOfReadOnlyCsrs))]
    public void Set_and_clear_forms_without_a_source_only_read_so_read_only_csrs_allow_them(string name, uint instruction)
    {
        using var machine = TrapProgram.RunExpectingNoTrap(TrapProgram.Begin().Emit(instruction));
        Assert.True(machine[TrapProgram.Count] == 0, name);
    }

    public static TheoryData<string, uint> WritesToReadOnlyCsrs => new()
    {
        { "csrrw mhartid, x0", Csrrw(Zero, Mhartid, Zero) },
        { "csrrw mhartid", Csrrw(T0, Mhartid, T1) },
        { "csrrwi mhartid, 0", Csrrwi(Zero, Mhartid, 0) },
        { "csrrs mhartid, t1", Csrrs(T0, Mhartid, T1) },
        { "csrrc mhartid, t1", Csrrc(T0, Mhartid, T1) },
        { "csrrsi mhartid, 1", Csrrsi(T0, Mhartid, 1) },
        { "csrrci mhartid, 1", Csrrci(T0, Mhartid, 1) },
        { "csrrw mvendorid", Csrrw(T0, Mvendorid, T1) },
        { "csrrw cycle", Csrrw(T0, Cycle, T1) },
        { "csrrw instret", Csrrw(T0, Instret, T1) },
    };

    [Theory]
    [MemberData(nameof(WritesToReadOnlyCsrs))]
    public void Writing_a_read_only_csr_is_an_illegal_instruction(string name, uint instruction)
    {
        var body = TrapProgram.Begin().Li(T0, 0x5EE5).Li(T1, 0);
        var pc = body.Pc;
        body.Emit(instruction);
        using var machine = TrapProgram.RunExpectingOneTrap(body);
        Assert.True(machine[TrapProgram.Cause] == 2, name);
        AssertHex(pc, machine[TrapProgram.Epc]);
        AssertHex(instruction, machine[TrapProgram.Tval]);
        Assert.Equal(0x5EE5UL, machine[T0]);
    }

    public static TheoryData<string, uint> UnimplementedCsrs => new()
    {
        { "csrr satp", Csrr(T0, Satp) },
        { "csrw satp", Csrw(Satp, T1) },
        { "csrr pmpcfg0", Csrr(T0, Pmpcfg0) },
        { "csrw pmpcfg0", Csrw(Pmpcfg0, T1) },
        { "csrr medeleg", Csrr(T0, Medeleg) },
        { "csrr time", Csrr(T0, Time) },
        { "csrrwi 0x7c0", Csrrwi(T0, 0x7C0, 1) },
        { "csrr 0xfff", Csrr(T0, 0xFFF) },
    };

    [Theory]
    [MemberData(nameof(UnimplementedCsrs))]
    public void An_unimplemented_csr_is_an_illegal_instruction_with_the_word_in_mtval(string name, uint instruction)
    {
        var body = TrapProgram.Begin().Li(T0, 0x5EE5).Li(T1, 3);
        var pc = body.Pc;
        body.Emit(instruction);
        using var machine = TrapProgram.RunExpectingOneTrap(body);
        Assert.True(machine[TrapProgram.Cause] == 2, name);
        AssertHex(pc, machine[TrapProgram.Epc]);
        AssertHex(instruction, machine[TrapProgram.Tval]);
        Assert.Equal(0x5EE5UL, machine[T0]);
    }

    [Theory]
    [InlineData(Minstret)]
    [InlineData(Mcycle)]
    [InlineData(Instret)]
    [InlineData(Cycle)]
    public void Counters_count_retired_instructions(int csr)
    {
        // Five instructions precede the first read, which sees them all but not itself.
        var code = new CodeBuilder()
            .Emit(Nop(), Nop(), Nop(), Nop(), Nop())
            .Emit(Csrr(T0, csr), Nop(), Nop(), Nop(), Csrr(T1, csr));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(5UL, machine[T0]);
        Assert.Equal(9UL, machine[T1]);
    }

    [Fact]
    public void Taken_branches_loads_stores_and_hypercalls_all_retire()
    {
        var loadAddress = Li(Sp, (long)RamBase + 0x1_0000);
        var code = new CodeBuilder()
            .Emit(Addi(T0, Zero, 3))
            .Label("loop")
            .Emit(Addi(T0, T0, -1))
            .Emit("loop", offset => Bne(T0, Zero, offset))
            .Emit(loadAddress)
            .Emit(Sd(T0, Sp, 0), Ld(T0, Sp, 0))
            .Emit(Addi(A7, Zero, 2), Ecall())
            .Emit(Csrr(S1, Minstret));
        // addi; three rounds of addi + bne (two taken); the address; sd, ld; the clock hypercall.
        Assert.Equal(1UL + 6 + (ulong)loadAddress.Length + 2 + 2, RunFor(S1, code));
    }

    [Fact]
    public void Writing_minstret_sets_the_count_seen_by_the_next_instruction()
    {
        var code = new CodeBuilder()
            .Li(T0, 1000)
            .Emit(Csrrw(T1, Minstret, T0), Csrr(T2, Minstret), Nop(), Csrr(T3, Mcycle));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(1UL, machine[T1]);
        Assert.Equal(1000UL, machine[T2]);
        Assert.Equal(1002UL, machine[T3]);
    }

    [Fact]
    public void The_exit_reports_every_retired_instruction_including_the_exit_ecall()
    {
        using var machine = Run(new CodeBuilder().Emit(Nop(), Nop()).Exit(5));
        machine.AssertExited(5);
        // nop, nop, li a0, li a7, ecall
        Assert.Equal(5UL, machine.Exit!.InstructionsRetired);
        Assert.Equal(5UL, machine.Machine.InstructionsRetired);
    }

    [Theory]
    [InlineData(Mstatus, 0xFFFF_FFFF_FFFF_FFFFUL, MstatusMie | MstatusMpie | MstatusMpp)]
    [InlineData(Mstatus, 0UL, MstatusMpp)]
    [InlineData(Mie, 0xFFFF_FFFF_FFFF_FFFFUL, 0x888UL)]
    [InlineData(Mip, 0xFFFF_FFFF_FFFF_FFFFUL, 0UL)]
    [InlineData(Misa, 0UL, 0x8000_0000_0000_1100UL)]
    [InlineData(Mepc, 0x8000_0007UL, 0x8000_0004UL)]
    [InlineData(Mtvec, 0x8000_0103UL, 0x8000_0101UL)]
    [InlineData(Mtvec, 0x8000_0101UL, 0x8000_0101UL)]
    [InlineData(Mcause, 0xFFFF_FFFF_FFFF_FFFFUL, 0xFFFF_FFFF_FFFF_FFFFUL)]
    [InlineData(Mtval, 0x1234_5678_9ABC_DEF0UL, 0x1234_5678_9ABC_DEF0UL)]
    public void Writable_csrs_keep_only_their_legal_bits(int csr, ulong written, ulong expected)
    {
        // mtvec is cleared again before the exit, which would otherwise trap instead of calling the host.
        var code = new CodeBuilder().Li(T0, written).Emit(Csrw(csr, T0), Csrr(T1, csr), Csrw(Mtvec, Zero));
        AssertHex(expected, RunFor(T1, code));
    }

    [Fact]
    public void Mstatus_starts_with_MPP_machine_and_interrupts_off() =>
        AssertHex(MstatusMpp, RunFor(T0, new CodeBuilder().Emit(Csrr(T0, Mstatus))));

    [Theory]
    [InlineData("illegal all-zero word", 0x0000_0000u)]
    [InlineData("illegal all-ones word", 0xFFFF_FFFFu)]
    [InlineData("compressed c.li", 0x0000_4501u)]
    [InlineData("sret", 0x1020_0073u)]
    [InlineData("amoadd.w", 0x00B5_202Fu)]
    public void An_illegal_instruction_traps_with_cause_2_and_the_word_in_mtval(string name, uint word)
    {
        var body = TrapProgram.Begin();
        var pc = body.Pc;
        body.Emit(word);
        using var machine = TrapProgram.RunExpectingOneTrap(body);
        Assert.True(machine[TrapProgram.Cause] == 2, name);
        AssertHex(pc, machine[TrapProgram.Epc]);
        AssertHex(word, machine[TrapProgram.Tval]);
    }

    [Fact]
    public void Ebreak_traps_with_cause_3_and_its_address()
    {
        var body = TrapProgram.Begin();
        var pc = body.Pc;
        body.Emit(Ebreak());
        using var machine = TrapProgram.RunExpectingOneTrap(body);
        Assert.Equal(3UL, machine[TrapProgram.Cause]);
        AssertHex(pc, machine[TrapProgram.Epc]);
        AssertHex(pc, machine[TrapProgram.Tval]);
    }

    [Fact]
    public void With_a_handler_ecall_is_a_trap_not_a_hypercall()
    {
        var body = TrapProgram.Begin()
            .La(A0, TrapProgram.Handler).Emit(Addi(A1, Zero, 4), Addi(A7, Zero, 1));
        var pc = body.Pc;
        body.Emit(Ecall(), Mv(S1, A0));
        using var machine = TrapProgram.RunExpectingOneTrap(body);
        Assert.Equal(11UL, machine[TrapProgram.Cause]);
        AssertHex(pc, machine[TrapProgram.Epc]);
        Assert.Equal(0UL, machine[TrapProgram.Tval]);
        Assert.Equal(0, machine.Console.Length);
        // A console write would have replaced a0 with the byte count.
        AssertHex(body.AddressOf(TrapProgram.Handler), machine[S1]);
    }

    [Theory]
    [InlineData(false, MstatusMpp, MstatusMpp | MstatusMpie)]
    [InlineData(true, MstatusMpp | MstatusMpie, MstatusMpp | MstatusMpie | MstatusMie)]
    public void Traps_stack_MIE_into_MPIE_and_mret_restores_it(bool mieBefore, ulong inHandler, ulong afterMret)
    {
        var body = TrapProgram.Begin();
        if (mieBefore)
        {
            body.Emit(Csrrsi(Zero, Mstatus, 8));
        }

        body.Emit(Ebreak(), Csrr(S1, Mstatus));
        using var machine = TrapProgram.RunExpectingOneTrap(body);
        AssertHex(inHandler, machine[TrapProgram.Status]);
        AssertHex(afterMret, machine[S1]);
    }

    [Fact]
    public void Mret_jumps_to_mepc()
    {
        var code = new CodeBuilder()
            .La(T0, "target").Emit(Csrw(Mepc, T0), Mret())
            .Emit(Addi(S2, Zero, 99))
            .Label("target")
            .Emit(Addi(S1, Zero, 1), Csrr(S3, Mstatus));
        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        Assert.Equal(1UL, machine[S1]);
        Assert.Equal(0UL, machine[S2]);
        AssertHex(MstatusMpp | MstatusMpie, machine[S3]);
    }

    [Fact]
    public void A_trapping_instruction_does_not_retire()
    {
        var body = TrapProgram.Begin().Emit(Csrr(S1, Minstret), 0u, Csrr(S7, Minstret));
        using var machine = TrapProgram.RunExpectingOneTrap(body);
        // The first read retires, the illegal word does not, the handler's instructions do.
        Assert.Equal(1UL + TrapProgram.HandlerLength, machine[S7] - machine[S1]);
    }

    [Fact]
    public void Vectored_mtvec_sends_exceptions_to_the_base_address()
    {
        var body = new CodeBuilder().La(T6, TrapProgram.Handler).Emit(Ori(T6, T6, 1), Csrw(Mtvec, T6), Csrr(S1, Mtvec));
        var pc = body.Pc;
        body.Emit(Ebreak());
        using var machine = TrapProgram.RunExpectingOneTrap(body);
        AssertHex(body.AddressOf(TrapProgram.Handler) | 1, machine[S1]);
        AssertHex(pc, machine[TrapProgram.Epc]);
    }

    [Fact]
    public void Several_traps_in_a_row_each_return_to_the_next_instruction()
    {
        var body = TrapProgram.Begin().Emit(Ebreak(), Addi(S1, S1, 1), 0u, Addi(S1, S1, 1), Ecall(), Addi(S1, S1, 1));
        using var machine = Run(body.End());
        machine.AssertExited(0);
        Assert.Equal(3UL, machine[TrapProgram.Count]);
        Assert.Equal(3UL, machine[S1]);
        Assert.Equal(11UL, machine[TrapProgram.Cause]);
    }

    [Fact]
    public void Without_a_handler_an_illegal_instruction_stops_the_machine_naming_cause_and_pc()
    {
        using var machine = Run(new CodeBuilder().Emit(Nop(), Nop(), 0xFFFF_FFFFu).Exit(0));
        var message = machine.AssertFaulted();
        Assert.Equal(RiscV.MachineExitKind.Faulted, machine.Exit!.Kind);
        Assert.Contains("illegal instruction", message, StringComparison.Ordinal);
        Assert.Contains("0x80000008", message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);
        Assert.Equal(2UL, machine.Exit.InstructionsRetired);
        Assert.Equal(1, machine.Exit.ProcessExitCode);
    }

    [Fact]
    public void Without_a_handler_an_unimplemented_csr_stops_the_machine()
    {
        using var machine = Run(new CodeBuilder().Emit(Nop(), Csrr(T0, Satp)).Exit(0));
        var message = machine.AssertFaulted();
        Assert.Contains("illegal instruction", message, StringComparison.Ordinal);
        Assert.Contains($"0x{Csrr(T0, Satp):x8}", message, StringComparison.Ordinal);
        Assert.Contains("0x80000004", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_handler_ebreak_stops_the_machine()
    {
        using var machine = Run(new CodeBuilder().Emit(Nop(), Nop(), Nop(), Ebreak()).Exit(0));
        var message = machine.AssertFaulted();
        Assert.Contains("breakpoint", message, StringComparison.Ordinal);
        Assert.Contains("0x8000000c", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trap_handler_outside_RAM_stops_the_machine()
    {
        using var machine = Run(new CodeBuilder().Li(T0, 0x1000L).Emit(Csrw(Mtvec, T0), Ebreak()).Exit(0));
        var message = machine.AssertFaulted();
        Assert.Contains("trap handler at 0x1000 is outside RAM", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wfi_is_a_hint_that_retires()
    {
        var code = new CodeBuilder().Emit(Wfi(), Wfi(), Csrr(T0, Minstret));
        Assert.Equal(2UL, RunFor(T0, code));
    }
}
