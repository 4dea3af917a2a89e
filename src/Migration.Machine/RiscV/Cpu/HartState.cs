using System.Runtime.InteropServices;

namespace Migration.Machine.RiscV.Cpu;

/// <summary>
/// The architectural state of the single hart: integer registers, pc, the retired-instruction counter and
/// the machine-mode CSRs. Registers live in native memory so the interpreter indexes them by pointer.
/// </summary>
internal sealed unsafe class HartState : IDisposable
{
    /// <summary>x0–x31 plus the slot that absorbs writes to x0.</summary>
    public const int RegisterSlots = 33;

    public const ulong MstatusMie = 1UL << 3;
    public const ulong MstatusMpie = 1UL << 7;

    /// <summary>MPP is read-only 3 (machine) on a core without user mode.</summary>
    public const ulong MstatusMpp = 3UL << 11;

    public HartState()
    {
        Registers = (ulong*)NativeMemory.AllocZeroed(RegisterSlots, sizeof(ulong));
    }

    public ulong* Registers { get; }

    public ulong Pc;

    /// <summary>Instructions retired; also serves as the cycle counter (one instruction per cycle).</summary>
    public ulong Instret;

    public ulong Mstatus = MstatusMpp;
    public ulong Mtvec;
    public ulong Mepc;
    public ulong Mcause;
    public ulong Mtval;
    public ulong Mscratch;
    public ulong Mie;

    /// <summary>Set by the interpreter when it leaves with <see cref="ExitReason.Trap"/>.</summary>
    public ulong PendingCause;
    public ulong PendingValue;

    /// <summary>Read by the hot loop at taken branches; set by another thread to stop the hart.</summary>
    public volatile int StopRequested;

    public ulong this[int register]
    {
        get => register == 0 ? 0 : Registers[register];
        set
        {
            if (register != 0)
            {
                Registers[register] = value;
            }
        }
    }

    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            NativeMemory.Free(Registers);
        }
    }
}
