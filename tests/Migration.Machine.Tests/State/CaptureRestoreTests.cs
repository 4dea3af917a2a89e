using Migration.Core.Machines;
using Migration.Core.Memory;
using Migration.Core.State;
using Migration.Machine.RiscV;
using Migration.Machine.RiscV.State;
using Migration.Machine.Tests.Cpu;
using static Migration.Machine.Tests.Cpu.Asm;
using static Migration.Machine.Tests.Cpu.TestMachine;
using static Migration.Machine.Tests.State.StateSections;

namespace Migration.Machine.Tests.State;

public class CaptureRestoreTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const ulong Counter = PauseResumeTests.Counter;
    private const ulong Handler = RamBase + 0x800;

    [Fact]
    public async Task Capturing_a_running_machine_is_refused_and_a_paused_one_is_captured()
    {
        using var test = Create(PauseResumeTests.CountingLoop(), maxInstructions: ulong.MaxValue);
        var machine = test.Machine;
        machine.Start();
        Assert.True(SpinWait.SpinUntil(() => machine.Memory.ReadUInt64(Counter) != 0, Timeout));

        var e = Assert.Throws<InvalidOperationException>(() => machine.CaptureDeviceState());
        Assert.Equal("pause the machine before capturing its state", e.Message);

        await machine.PauseAsync().WaitAsync(Timeout);
        var sections = machine.CaptureDeviceState();
        Assert.Equal("cpu devices", string.Join(' ', sections.Select(s => s.Name)));
        Assert.All(sections, s => Assert.Equal(1, s.Version));
        Assert.Equal(machine.Pc, CpuOf(sections).Pc);

        machine.Resume();
        Assert.True(SpinWait.SpinUntil(() => machine.State == MachineRunState.Running, Timeout));
        Assert.Throws<InvalidOperationException>(() => machine.CaptureDeviceState());
        machine.Terminate();
    }

    [Fact]
    public async Task A_finished_machine_is_not_captured()
    {
        using var exited = Run(new CodeBuilder().Exit(5));
        exited.AssertExited(5);
        var e = Assert.Throws<InvalidOperationException>(() => exited.Machine.CaptureDeviceState());
        Assert.Contains("finished (exited)", e.Message, StringComparison.Ordinal);

        using var terminated = Create(PauseResumeTests.CountingLoop(), maxInstructions: ulong.MaxValue);
        terminated.Machine.Start();
        terminated.Machine.Terminate();
        await terminated.Machine.Completion.WaitAsync(Timeout);
        Assert.Throws<InvalidOperationException>(() => terminated.Machine.CaptureDeviceState());
    }

    [Fact]
    public async Task Every_architectural_register_survives_capture_and_restore()
    {
        var code = new CodeBuilder()
            .Li(T0, 0x1234_5678_9abc_def0L).Emit(Csrw(0x340, T0))
            .Li(T0, (long)Handler | 1).Emit(Csrw(0x305, T0))
            .Li(T0, (long)RamBase + 0x40).Emit(Csrw(0x341, T0))
            .Li(T0, 7).Emit(Csrw(0x342, T0))
            .Li(T0, 0xdead).Emit(Csrw(0x343, T0))
            .Li(T0, 0x888).Emit(Csrw(0x304, T0))
            .Emit(Csrrsi(Zero, 0x300, 8));
        for (var r = 18; r < 32; r++)
        {
            code.Li(r, (0x1111L * r) << 20);
        }

        code.Emit(Addi(S1, Zero, 0)).Li(S0, (long)Counter).Label("loop").Emit(Addi(S1, S1, 1), Sd(S1, S0, 0))
            .Emit("loop", offset => J(offset));
        using var test = Create(code, toHost: RamBase + 0xF000, maxInstructions: ulong.MaxValue);
        var machine = test.Machine;
        machine.Start();
        Assert.True(SpinWait.SpinUntil(() => machine.Memory.ReadUInt64(Counter) > 1000, Timeout));
        await machine.PauseAsync().WaitAsync(Timeout);
        var sections = machine.CaptureDeviceState();

        var cpu = CpuOf(sections);
        Assert.Equal(CpuState.StoredRegisters, cpu.Registers.Length);
        for (var r = 1; r < 32; r++)
        {
            Assert.Equal(machine.GetRegister(r), cpu.Registers[r - 1]);
        }

        Assert.Equal(machine.Pc, cpu.Pc);
        Assert.Equal(machine.InstructionsRetired, cpu.Instret);
        Assert.Equal(0x1234_5678_9abc_def0UL, cpu.Mscratch);
        Assert.Equal(Handler | 1, cpu.Mtvec);
        Assert.Equal(RamBase + 0x40, cpu.Mepc);
        Assert.Equal(7UL, cpu.Mcause);
        Assert.Equal(0xdeadUL, cpu.Mtval);
        Assert.Equal(0x888UL, cpu.Mie);
        Assert.Equal((3UL << 11) | 8, cpu.Mstatus);
        Assert.Equal(RamBase + 0xF000, DevicesOf(sections).ToHostAddress);

        using var restored = RestoreOwned(CopyMemory(machine.Memory), sections);
        Assert.Equal(machine.Pc, restored.Pc);
        Assert.Equal(machine.InstructionsRetired, restored.InstructionsRetired);
        // A restored machine captures to the same CPU bytes: nothing was lost or normalised on the way in.
        var again = restored.CaptureDeviceState();
        Assert.Equal(Get(sections, RiscVStateSections.Cpu).Body, Get(again, RiscVStateSections.Cpu).Body);
        Assert.Equal(RamBase + 0xF000, DevicesOf(again).ToHostAddress);

        var iterations = restored.GetRegister(S1);
        restored.Start();
        Assert.True(SpinWait.SpinUntil(() => restored.Memory.ReadUInt64(Counter) > iterations + 1000, Timeout), "the restored guest did not continue its loop");
        machine.Terminate();
    }

    /// <summary>1 µs is behind any host's monotonic clock (negative offset); 2^61 ns, 73 years, is ahead of it (positive).</summary>
    [Theory]
    [InlineData(1_000L, -1)]
    [InlineData(1L << 61, 1)]
    public async Task The_guest_clock_continues_from_the_captured_value_whichever_way_the_offset_goes(long captured, int offsetSign)
    {
        using var test = Create(new CodeBuilder().Hypercall(2).Emit(Mv(S1, A0)).Exit(0));
        var sections = WithDevices(test.Machine.CaptureDeviceState(), d => d.ClockNanoseconds = captured);

        using var restored = RestoreOwned(CopyMemory(test.Machine.Memory), sections);
        var now = restored.Clock.NowNanoseconds;
        Assert.Equal(offsetSign, Math.Sign(restored.Clock.OffsetNanoseconds));
        Assert.InRange(now, captured, captured + (long)Timeout.TotalNanoseconds);

        restored.Start();
        var exit = await restored.Completion.WaitAsync(Timeout);
        Assert.Equal(MachineExitKind.Exited, exit.Kind);
        Assert.InRange((long)restored.GetRegister(S1), now, restored.Clock.NowNanoseconds);
    }

    [Fact]
    public async Task A_restored_clock_never_reads_less_than_at_capture()
    {
        using var test = Create(PauseResumeTests.CountingLoop(), maxInstructions: ulong.MaxValue);
        test.Machine.Start();
        await test.Machine.PauseAsync().WaitAsync(Timeout);
        var sections = test.Machine.CaptureDeviceState();
        var captured = DevicesOf(sections).ClockNanoseconds;

        using var restored = RestoreOwned(CopyMemory(test.Machine.Memory), sections);
        Assert.True(restored.Clock.NowNanoseconds >= captured);
        test.Machine.Terminate();
    }

    [Fact]
    public void Sections_for_other_readers_are_ignored()
    {
        using var test = Create(new CodeBuilder().Exit(0));
        var sections = test.Machine.CaptureDeviceState()
            .Append(new StateSection("machine", 9, [0xc1]))
            .Append(new StateSection("sockets", 3, []))
            .Prepend(new StateSection("socket", 1, [1, 2, 3]))
            .ToList();

        using var restored = RestoreOwned(CopyMemory(test.Machine.Memory), sections);
        Assert.Equal(MachineRunState.Created, restored.State);
    }

    [Fact]
    public void Memory_of_another_size_than_the_options_give_is_refused_and_not_disposed()
    {
        using var test = Create(new CodeBuilder().Exit(0));
        var sections = test.Machine.CaptureDeviceState();
        using var memory = new GuestMemory(2 * MemorySize);
        var e = Assert.Throws<ArgumentException>(() => RiscVMachine.Restore(memory, sections, new MachineOptions { MemorySize = MemorySize }));
        Assert.Contains("2097152", e.Message, StringComparison.Ordinal);
        memory.WriteUInt64(RamBase, 42);
        Assert.Equal(42UL, memory.ReadUInt64(RamBase));
    }

    /// <summary>Restores into memory the caller gives up on success, and disposes it when the restore refuses.</summary>
    internal static RiscVMachine RestoreOwned(GuestMemory memory, IReadOnlyList<StateSection> sections)
    {
        try
        {
            return RiscVMachine.Restore(memory, sections, new MachineOptions { MemorySize = memory.Size });
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }
}
