namespace Migration.Machine.RiscV.Cpu;

/// <summary>
/// The machine-mode CSRs this M-only core implements. Any other number — satp, pmp*, medeleg, time, … —
/// raises an illegal-instruction trap, as on real M-only hardware, so test environments that probe
/// optional CSRs under a trap handler run through.
/// </summary>
internal static class ControlStatusRegisters
{
    public const int Mstatus = 0x300;
    public const int Misa = 0x301;
    public const int Mie = 0x304;
    public const int Mtvec = 0x305;
    public const int Mscratch = 0x340;
    public const int Mepc = 0x341;
    public const int Mcause = 0x342;
    public const int Mtval = 0x343;
    public const int Mip = 0x344;
    public const int Mcycle = 0xB00;
    public const int Minstret = 0xB02;
    public const int Cycle = 0xC00;
    public const int Instret = 0xC02;
    public const int Mvendorid = 0xF11;
    public const int Marchid = 0xF12;
    public const int Mimpid = 0xF13;
    public const int Mhartid = 0xF14;
    public const int Mconfigptr = 0xF15;

    /// <summary>MXL=2 (64-bit), extensions I and M.</summary>
    public const ulong MisaValue = (2UL << 62) | (1UL << ('I' - 'A')) | (1UL << ('M' - 'A'));

    private const ulong MstatusWritable = HartState.MstatusMie | HartState.MstatusMpie;

    /// <summary>MSIE, MTIE, MEIE: the only interrupt enables a machine-mode-only hart has.</summary>
    public const ulong MieWritable = (1UL << 3) | (1UL << 7) | (1UL << 11);

    /// <summary>CSRs whose top two number bits are 11 are read-only (privileged spec §2.1).</summary>
    public static bool IsReadOnly(int csr) => (csr >> 10) == 3;

    public static bool TryRead(HartState s, int csr, out ulong value)
    {
        switch (csr)
        {
            case Mstatus: value = s.Mstatus; return true;
            case Misa: value = MisaValue; return true;
            case Mie: value = s.Mie; return true;
            case Mtvec: value = s.Mtvec; return true;
            case Mscratch: value = s.Mscratch; return true;
            case Mepc: value = s.Mepc; return true;
            case Mcause: value = s.Mcause; return true;
            case Mtval: value = s.Mtval; return true;
            case Mip: value = 0; return true;
            case Mcycle or Minstret or Cycle or Instret: value = s.Instret; return true;
            case Mvendorid or Marchid or Mimpid or Mhartid or Mconfigptr: value = 0; return true;
            default: value = 0; return false;
        }
    }

    /// <summary>Writes with each register's WARL rules; false when the CSR does not exist or is read-only.</summary>
    public static bool TryWrite(HartState s, int csr, ulong value)
    {
        switch (csr)
        {
            case Mstatus: s.Mstatus = (value & MstatusWritable) | HartState.MstatusMpp; return true;
            case Misa: return true;
            case Mie: s.Mie = value & MieWritable; return true;
            // Modes 2 and 3 are reserved; only direct and vectored are kept.
            case Mtvec: s.Mtvec = value & ~2UL; return true;
            case Mscratch: s.Mscratch = value; return true;
            // IALIGN is 32: the low two bits of mepc read as zero.
            case Mepc: s.Mepc = value & ~3UL; return true;
            case Mcause: s.Mcause = value; return true;
            case Mtval: s.Mtval = value; return true;
            case Mip: return true;
            case Mcycle or Minstret: s.Instret = value; return true;
            default: return false;
        }
    }
}
