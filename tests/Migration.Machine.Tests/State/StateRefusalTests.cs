using Migration.Core.Memory;
using Migration.Core.State;
using Migration.Machine.RiscV;
using Migration.Machine.RiscV.State;
using Migration.Machine.Tests.Cpu;
using static Migration.Machine.Tests.Cpu.TestMachine;
using static Migration.Machine.Tests.State.StateSections;

namespace Migration.Machine.Tests.State;

/// <summary>
/// A restore refuses state this build cannot read or this hart could never have been in, with one line that names
/// the section and the field — and leaves the memory it was given to the caller, undisposed.
/// </summary>
public class StateRefusalTests
{
    private const string CpuName = RiscVStateSections.Cpu;
    private const string DevicesName = RiscVStateSections.Devices;

    public static TheoryData<string, string, string> Cases => new()
    {
        { "cpu version 2", CpuName, "version 2 is not supported; this build reads 1" },
        { "devices version 0", DevicesName, "version 0 is not supported; this build reads 1" },
        { "no cpu", CpuName, "missing" },
        { "no devices", DevicesName, "missing" },
        { "two cpu", CpuName, "appears 2 times" },
        { "garbage cpu", CpuName, "undecodable body" },
        { "garbage devices", DevicesName, "undecodable body" },
        { "empty cpu", CpuName, "undecodable body" },
        { "nil cpu", CpuName, "nil" },
        { "30 registers", CpuName, "registers: 30 values" },
        { "x0 not zero", CpuName, "registers: x0" },
        { "pc below RAM", CpuName, "pc 0x1000 is outside RAM" },
        { "pc past RAM", CpuName, "pc 0x80100000 is outside RAM" },
        { "pc misaligned", CpuName, "pc 0x80000002 is not 4-byte aligned" },
        { "mstatus MPP user", CpuName, "mstatus 0x8 has MPP 0" },
        { "mstatus SIE", CpuName, "mstatus 0x1802 sets bits 0x2" },
        { "mtvec mode 2", CpuName, "mtvec 0x80000802 has mode 2" },
        { "mepc misaligned", CpuName, "mepc 0x80000006 is not 4-byte aligned" },
        { "mie SSIE", CpuName, "mie 0x2 sets bits 0x2" },
        { "tohost outside RAM", DevicesName, "tohost 0x10 is outside RAM" },
        { "tohost misaligned", DevicesName, "tohost 0x80008004 is not 8-byte aligned" },
        { "clock negative", DevicesName, "clock -1 ns" },
        { "console count negative", DevicesName, "console byte count -3" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Invalid_state_is_refused_with_one_line_naming_section_and_field(string damage, string section, string message)
    {
        using var source = Create(new CodeBuilder().Exit(0), toHost: RamBase + 0x8000);
        var valid = source.Machine.CaptureDeviceState();
        var memory = CopyMemory(source.Machine.Memory);
        try
        {
            var e = Assert.Throws<StateSectionException>(() =>
                RiscVMachine.Restore(memory, Damage(valid, damage), new MachineOptions { MemorySize = MemorySize }));
            Assert.Equal(section, e.Section);
            Assert.StartsWith($"section '{section}': ", e.Message, StringComparison.Ordinal);
            Assert.Contains(message, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
        }
        catch
        {
            memory.Dispose();
            throw;
        }

        // Still the caller's, still alive: usable, and accepted by a restore with good state (which then owns it).
        Assert.Equal(source.Machine.Memory.ReadUInt64(RamBase), memory.ReadUInt64(RamBase));
        using var restored = CaptureRestoreTests.RestoreOwned(memory, valid);
        Assert.Equal(source.Machine.Pc, restored.Pc);
    }

    private static IReadOnlyList<StateSection> Damage(IReadOnlyList<StateSection> valid, string damage) => damage switch
    {
        "cpu version 2" => Replace(valid, Get(valid, CpuName) with { Version = 2 }),
        "devices version 0" => Replace(valid, Get(valid, DevicesName) with { Version = 0 }),
        "no cpu" => Without(valid, CpuName),
        "no devices" => Without(valid, DevicesName),
        "two cpu" => [.. valid, Get(valid, CpuName)],
        "garbage cpu" => Replace(valid, Get(valid, CpuName) with { Body = [0xc1, 0xff, 0x00, 0x13] }),
        "garbage devices" => Replace(valid, Get(valid, DevicesName) with { Body = [0x93, 0xa1, 0x78, 0xc0] }),
        "empty cpu" => Replace(valid, Get(valid, CpuName) with { Body = [] }),
        "nil cpu" => Replace(valid, Get(valid, CpuName) with { Body = [0xc0] }),
        "30 registers" => WithCpu(valid, c => c.Registers = new ulong[30]),
        "x0 not zero" => WithCpu(valid, c => c.Registers = [1, .. c.Registers]),
        "pc below RAM" => WithCpu(valid, c => c.Pc = 0x1000),
        "pc past RAM" => WithCpu(valid, c => c.Pc = RamEnd),
        "pc misaligned" => WithCpu(valid, c => c.Pc = RamBase + 2),
        "mstatus MPP user" => WithCpu(valid, c => c.Mstatus = 0x8),
        "mstatus SIE" => WithCpu(valid, c => c.Mstatus = 0x1802),
        "mtvec mode 2" => WithCpu(valid, c => c.Mtvec = RamBase + 0x802),
        "mepc misaligned" => WithCpu(valid, c => c.Mepc = RamBase + 6),
        "mie SSIE" => WithCpu(valid, c => c.Mie = 0x2),
        "tohost outside RAM" => WithDevices(valid, d => d.ToHostAddress = 0x10),
        "tohost misaligned" => WithDevices(valid, d => d.ToHostAddress = RamBase + 0x8004),
        "clock negative" => WithDevices(valid, d => d.ClockNanoseconds = -1),
        "console count negative" => WithDevices(valid, d => d.ConsoleBytesWritten = -3),
        _ => throw new ArgumentOutOfRangeException(nameof(damage), damage, "no such damage"),
    };

    [Fact]
    public void Without_a_tohost_the_devices_section_restores_without_one()
    {
        using var source = Create(new CodeBuilder().Exit(0));
        var sections = source.Machine.CaptureDeviceState();
        Assert.Null(DevicesOf(sections).ToHostAddress);
        using var restored = CaptureRestoreTests.RestoreOwned(CopyMemory(source.Machine.Memory), sections);
        Assert.Null(DevicesOf(restored.CaptureDeviceState()).ToHostAddress);
    }

    [Fact]
    public void A_checkpoint_of_a_guest_from_an_elf_keeps_the_tohost_of_its_symbol()
    {
        using var machine = RiscVMachine.Load(RepositoryPaths.Guest("htif"), new MachineOptions { MemorySize = 16UL << 20 });
        var toHost = DevicesOf(machine.CaptureDeviceState()).ToHostAddress;
        Assert.NotNull(toHost);
        Assert.Equal(0UL, toHost % 8);
        Assert.True(machine.Memory.Contains(toHost.Value, 8));
    }
}
