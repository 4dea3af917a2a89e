using Migration.Machine.RiscV;
using static Migration.Machine.Tests.Cpu.Asm;
using static Migration.Machine.Tests.Cpu.TestMachine;

namespace Migration.Machine.Tests.Cpu;

public class HtifTests
{
    private const ulong ToHost = RamBase + 0x1_0000;

    private static readonly Dictionary<string, Func<int, int, int, uint>> Stores = new()
    {
        ["sb"] = Sb, ["sh"] = Sh, ["sw"] = Sw, ["sd"] = Sd,
    };

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(42L)]
    [InlineData(255L)]
    [InlineData(0x1234_5678L)]
    public void A_store_of_code_shifted_left_with_bit_0_set_exits_with_that_code(long exitCode)
    {
        var code = new CodeBuilder().Li(T0, (long)ToHost).Li(T1, (exitCode << 1) | 1).Emit(Sd(T1, T0, 0)).Exit(99);
        using var machine = Run(code, toHost: ToHost);
        machine.AssertExited(exitCode);
        // The tohost store is the last instruction retired: the three of the exit hypercall never run.
        Assert.Equal((ulong)code.Build().Length - 3, machine.Exit!.InstructionsRetired);
    }

    [Theory]
    [InlineData("sb")]
    [InlineData("sh")]
    [InlineData("sw")]
    [InlineData("sd")]
    public void A_store_of_1_of_any_width_exits_0(string op)
    {
        var code = new CodeBuilder().Li(T0, (long)ToHost).Emit(Addi(T1, Zero, 1), Stores[op](T1, T0, 0)).Exit(99);
        using var machine = Run(code, toHost: ToHost);
        machine.AssertExited(0);
    }

    [Fact]
    public void A_store_of_0_to_tohost_continues()
    {
        var code = new CodeBuilder().Li(T0, (long)ToHost).Emit(Sd(Zero, T0, 0), Addi(S1, Zero, 1)).Exit(7);
        using var machine = Run(code, toHost: ToHost);
        machine.AssertExited(7);
        Assert.Equal(1UL, machine[S1]);
    }

    [Theory]
    [InlineData("sd", -8)]
    [InlineData("sd", 8)]
    [InlineData("sb", -1)]
    [InlineData("sb", 8)]
    [InlineData("sw", -4)]
    [InlineData("sh", 8)]
    public void Stores_next_to_tohost_do_not_exit(string op, int offset)
    {
        var code = new CodeBuilder().Li(T0, (long)ToHost).Emit(Addi(T1, Zero, 1), Stores[op](T1, T0, offset)).Exit(7);
        using var machine = Run(code, toHost: ToHost);
        machine.AssertExited(7);
    }

    [Fact]
    public void A_misaligned_store_that_overlaps_tohost_is_seen()
    {
        // The upper half of the doubleword lands on tohost's low word: tohost = 1.
        var code = new CodeBuilder().Li(T0, (long)ToHost).Li(T1, 0x1_0000_0000L).Emit(Sd(T1, T0, -4)).Exit(7);
        using var machine = Run(code, toHost: ToHost);
        machine.AssertExited(0);
    }

    [Fact]
    public void An_even_non_zero_value_is_a_syscall_proxy_request_which_is_refused()
    {
        var code = new CodeBuilder().Li(T0, (long)ToHost).Li(T1, (long)ToHost + 0x100).Emit(Sd(T1, T0, 0)).Exit(7);
        using var machine = Run(code, toHost: ToHost);
        var message = machine.AssertFaulted();
        Assert.Contains("not supported", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_tohost_address_the_same_store_is_ordinary()
    {
        var code = new CodeBuilder().Li(T0, (long)ToHost).Emit(Addi(T1, Zero, 1), Sd(T1, T0, 0)).Exit(7);
        using var machine = Run(code);
        machine.AssertExited(7);
        Assert.Equal(1UL, machine.Machine.Memory.ReadUInt64(ToHost));
    }

    [Theory]
    [InlineData(0x1000UL)]
    [InlineData(RamEnd - 4)]
    [InlineData(RamEnd)]
    public void A_tohost_address_outside_RAM_is_refused(ulong address) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(new CodeBuilder().Exit(0), toHost: address));

    [Fact]
    public void Exit_through_tohost_reports_the_process_exit_code()
    {
        var code = new CodeBuilder().Li(T0, (long)ToHost).Li(T1, (300 << 1) | 1).Emit(Sd(T1, T0, 0));
        using var machine = Run(code, toHost: ToHost);
        Assert.Equal(MachineExitKind.Exited, machine.Exit!.Kind);
        Assert.Equal(300 & 0xFF, machine.Exit.ProcessExitCode);
    }
}
