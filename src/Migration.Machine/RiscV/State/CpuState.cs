using MessagePack;
using Migration.Core.Memory;
using Migration.Core.State;
using Migration.Machine.RiscV.Cpu;

namespace Migration.Machine.RiscV.State;

/// <summary>
/// The hart's architectural state as the <c>cpu</c> section (version 1) carries it. Keys are never reused: a field
/// that goes away keeps its number retired, and a change of meaning is a new section version.
/// </summary>
[MessagePackObject]
public sealed class CpuState
{
    /// <summary>x1..x31; x0 is hard-wired to zero and not stored.</summary>
    public const int StoredRegisters = 31;

    /// <summary>x1..x31 in order (31 values). A reader also accepts 32 values, x0..x31, when x0 is 0.</summary>
    [Key(0)]
    public ulong[] Registers { get; set; } = new ulong[StoredRegisters];

    [Key(1)]
    public ulong Pc { get; set; }

    /// <summary>Instructions retired, which is also mcycle: a restored guest sees its counters continue.</summary>
    [Key(2)]
    public ulong Instret { get; set; }

    [Key(3)]
    public ulong Mstatus { get; set; }

    [Key(4)]
    public ulong Mtvec { get; set; }

    [Key(5)]
    public ulong Mepc { get; set; }

    [Key(6)]
    public ulong Mcause { get; set; }

    [Key(7)]
    public ulong Mtval { get; set; }

    [Key(8)]
    public ulong Mscratch { get; set; }

    [Key(9)]
    public ulong Mie { get; set; }

    internal static CpuState Capture(HartState s)
    {
        var registers = new ulong[StoredRegisters];
        for (var i = 0; i < registers.Length; i++)
        {
            registers[i] = s[i + 1];
        }

        return new CpuState
        {
            Registers = registers,
            Pc = s.Pc,
            Instret = s.Instret,
            Mstatus = s.Mstatus,
            Mtvec = s.Mtvec,
            Mepc = s.Mepc,
            Mcause = s.Mcause,
            Mtval = s.Mtval,
            Mscratch = s.Mscratch,
            Mie = s.Mie,
        };
    }

    /// <summary>Writes the state into a hart that is not running; call <see cref="Validate"/> first.</summary>
    internal void ApplyTo(HartState s)
    {
        var first = Registers.Length - StoredRegisters;
        for (var i = 1; i < 32; i++)
        {
            s[i] = Registers[first + i - 1];
        }

        s.Pc = Pc;
        s.Instret = Instret;
        s.Mstatus = Mstatus;
        s.Mtvec = Mtvec;
        s.Mepc = Mepc;
        s.Mcause = Mcause;
        s.Mtval = Mtval;
        s.Mscratch = Mscratch;
        s.Mie = Mie;
        s.PendingCause = 0;
        s.PendingValue = 0;
    }

    /// <summary>
    /// Refuses what this hart could never have been in: the CSR rules are the ones <see cref="ControlStatusRegisters"/>
    /// enforces on guest writes, so a state that passes behaves exactly as one the guest reached by itself.
    /// </summary>
    internal void Validate(GuestMemory memory)
    {
        const string section = RiscVStateSections.Cpu;
        if (Registers is null)
        {
            throw new StateSectionException(section, "registers: missing");
        }

        if (Registers.Length is not (StoredRegisters or StoredRegisters + 1))
        {
            throw new StateSectionException(section, $"registers: {Registers.Length} values; expected {StoredRegisters} (x1..x31) or {StoredRegisters + 1} (x0..x31)");
        }

        if (Registers.Length == StoredRegisters + 1 && Registers[0] != 0)
        {
            throw new StateSectionException(section, $"registers: x0 is 0x{Registers[0]:x}; it is hard-wired to 0");
        }

        if (!memory.Contains(Pc, 4))
        {
            throw new StateSectionException(section, $"pc 0x{Pc:x} is outside RAM 0x{memory.Base:x}..0x{memory.End:x}");
        }

        if ((Pc & 3) != 0)
        {
            throw new StateSectionException(section, $"pc 0x{Pc:x} is not 4-byte aligned");
        }

        const ulong implemented = HartState.MstatusMie | HartState.MstatusMpie | HartState.MstatusMpp;
        if ((Mstatus & ~implemented) != 0)
        {
            throw new StateSectionException(section, $"mstatus 0x{Mstatus:x} sets bits 0x{Mstatus & ~implemented:x} this hart does not implement (only MIE, MPIE, MPP)");
        }

        if ((Mstatus & HartState.MstatusMpp) != HartState.MstatusMpp)
        {
            throw new StateSectionException(section, $"mstatus 0x{Mstatus:x} has MPP {(Mstatus & HartState.MstatusMpp) >> 11}; a machine-mode-only hart holds 3 (machine)");
        }

        if ((Mtvec & 3) > 1)
        {
            throw new StateSectionException(section, $"mtvec 0x{Mtvec:x} has mode {Mtvec & 3}, which is reserved (0 direct, 1 vectored)");
        }

        if ((Mepc & 3) != 0)
        {
            throw new StateSectionException(section, $"mepc 0x{Mepc:x} is not 4-byte aligned");
        }

        if ((Mie & ~ControlStatusRegisters.MieWritable) != 0)
        {
            throw new StateSectionException(section, $"mie 0x{Mie:x} sets bits 0x{Mie & ~ControlStatusRegisters.MieWritable:x} this hart does not implement (only MSIE, MTIE, MEIE)");
        }
    }
}
