using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Guests;

public class GuestProgramTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 20_000)]
    public void Counter_prints_what_the_host_computes(int rounds, int steps)
    {
        var (output, exit) = GuestRun.Run("counter", rounds.ToString(System.Globalization.CultureInfo.InvariantCulture), steps.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(MachineExitKind.Exited, exit.Kind);
        Assert.Equal(0, exit.GuestExitCode);
        Assert.Equal(CounterReference.Output(rounds, steps), output);
    }

    [Fact]
    public void Counter_rejects_bad_arguments_with_exit_code_2()
    {
        var (output, exit) = GuestRun.Run("counter", "many");
        Assert.Equal(2, exit.GuestExitCode);
        Assert.StartsWith("usage: counter", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Selfmod_sees_patched_code_after_fence_i()
    {
        var (output, exit) = GuestRun.Run("selfmod");
        Assert.Equal(0, exit.GuestExitCode);
        Assert.Equal("selfmod 42\nselfmod 43\n", output);
    }

    [Theory]
    [InlineData(new string[0], 0)]
    [InlineData(new[] { "5" }, 5)]
    [InlineData(new[] { "200" }, 200)]
    public void Htif_tohost_write_ends_the_machine_with_the_code(string[] arguments, int code)
    {
        var (_, exit) = GuestRun.Run("htif", arguments);
        Assert.Equal(MachineExitKind.Exited, exit.Kind);
        Assert.Equal(code, exit.GuestExitCode);
    }

    [Fact]
    public void Unknown_hypercall_returns_enosys_to_the_guest()
    {
        var (output, exit) = GuestRun.Run("fault", "ecall-bad");
        Assert.Equal(0, exit.GuestExitCode);
        Assert.Contains("returned -38", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("load", "load access fault at address 0x10")]
    [InlineData("store", "store access fault at address 0x10")]
    [InlineData("illegal", "illegal instruction 0x00000000")]
    [InlineData("misaligned-jump", "misaligned instruction fetch at address 0x")]
    [InlineData("ebreak", "breakpoint (ebreak)")]
    public void Faulting_guests_stop_with_a_one_line_reason(string kind, string reason)
    {
        var (_, exit) = GuestRun.Run("fault", kind);
        Assert.Equal(MachineExitKind.Faulted, exit.Kind);
        Assert.Contains(reason, exit.Message, StringComparison.Ordinal);
        Assert.Matches(@"pc 0x8[0-9a-f]{7}", exit.Message);
        Assert.DoesNotContain('\n', exit.Message!);
        Assert.Equal(1, exit.ProcessExitCode);
    }

    [Fact]
    public void Dirty_rewrites_its_working_set_for_the_given_time()
    {
        var (output, exit) = GuestRun.Run("dirty", "4", "0", "1");
        Assert.Equal(0, exit.GuestExitCode);
        Assert.StartsWith("dirty: 4 pages", output, StringComparison.Ordinal);
        Assert.Contains("dirty: done", output, StringComparison.Ordinal);
    }
}
