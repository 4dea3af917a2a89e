using Migration.Core.Memory;
using Migration.Machine.RiscV.Hypercalls;

namespace Migration.Machine.RiscV.Cpu;

/// <summary>
/// Runs the interpreter and carries out everything it leaves to a slow path: page decoding, traps,
/// CSR instructions, mret, fence.i, wfi, ecall (hypercall or trap) and HTIF tohost writes.
/// </summary>
/// <remarks>
/// An ecall is a hypercall while the guest has no trap handler (mtvec = 0), which is how SDK guests run;
/// a guest that installs a handler receives its ecalls as traps, as standard test environments expect.
/// With no handler, any other exception stops the machine with a one-line message naming cause and pc.
/// </remarks>
internal sealed unsafe class Hart : IDisposable
{
    private readonly GuestMemory _memory;
    private readonly DecodeCache _cache;
    private readonly Interpreter _interpreter;
    private readonly HypercallDispatcher _hypercalls;
    private readonly ulong? _toHost;
    private readonly ulong[] _arguments = new ulong[6];

    public Hart(GuestMemory memory, HypercallDispatcher hypercalls, ulong? toHostAddress)
    {
        _memory = memory;
        _hypercalls = hypercalls;
        _cache = new DecodeCache(memory);
        _interpreter = new Interpreter(memory, _cache);
        if (toHostAddress is { } address)
        {
            if (!memory.Contains(address, 8))
            {
                throw new ArgumentOutOfRangeException(nameof(toHostAddress), $"tohost 0x{address:x} is outside RAM");
            }

            if ((address & 7) != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(toHostAddress), $"tohost 0x{address:x} is not 8-byte aligned");
            }

            _toHost = address;
            _interpreter.ToHostOffset = address - memory.Base;
        }
    }

    public HartState State { get; } = new();

    /// <summary>The HTIF tohost word the hart watches, if any; a checkpoint carries it because the ELF symbol it came from does not.</summary>
    public ulong? ToHostAddress => _toHost;

    /// <summary>Guest code in RAM changed behind the interpreter's back (loading, restoring): forget decoded pages.</summary>
    public void InvalidateDecodedCode() => _cache.InvalidateAll();

    /// <summary>Runs until a stop is requested, <paramref name="instructionLimit"/> instructions have retired, or the guest exits, faults or blocks.</summary>
    public HartStop Run(ulong instructionLimit)
    {
        var s = State;
        while (true)
        {
            if (s.StopRequested != 0 || s.Instret >= instructionLimit)
            {
                return HartStop.Stopped();
            }

            switch (_interpreter.Run(s, instructionLimit))
            {
                case ExitReason.Stopped:
                    return HartStop.Stopped();
                case ExitReason.FetchMiss:
                    if (_memory.Contains(s.Pc, 4) && (s.Pc & 3) == 0)
                    {
                        _cache.Decode((int)((s.Pc - _memory.Base) >> GuestMemory.PageShift));
                        continue;
                    }

                    if (Trap(TrapCause.InstructionAccessFault, s.Pc) is { } fetchFault)
                    {
                        return fetchFault;
                    }

                    continue;
                case ExitReason.Trap:
                    if (Trap(s.PendingCause, s.PendingValue) is { } fault)
                    {
                        return fault;
                    }

                    continue;
                case ExitReason.ToHost:
                    if (ToHost() is { } exit)
                    {
                        return exit;
                    }

                    continue;
                case ExitReason.System:
                    if (ExecuteSystem() is { } stop)
                    {
                        return stop;
                    }

                    continue;
                default:
                    throw new InvalidOperationException("interpreter returned an unknown exit reason");
            }
        }
    }

    /// <summary>Enters the guest's trap handler, or stops the machine when there is none.</summary>
    private HartStop? Trap(ulong cause, ulong value)
    {
        var s = State;
        var handler = s.Mtvec & ~3UL;
        if (handler == 0)
        {
            return HartStop.Faulted(Describe(cause, value, s.Pc) + " (no trap handler)");
        }

        if (cause == TrapCause.InstructionAccessFault && s.Pc == handler)
        {
            return HartStop.Faulted($"trap handler at 0x{handler:x} is outside RAM");
        }

        s.Mepc = s.Pc;
        s.Mcause = cause;
        s.Mtval = value;
        var mie = (s.Mstatus & HartState.MstatusMie) != 0;
        s.Mstatus = (mie ? HartState.MstatusMpie : 0) | HartState.MstatusMpp;
        s.Pc = handler;
        return null;
    }

    private static string Describe(ulong cause, ulong value, ulong pc) => cause switch
    {
        TrapCause.IllegalInstruction => $"illegal instruction 0x{value:x8} at pc 0x{pc:x}",
        TrapCause.LoadAccessFault or TrapCause.StoreAccessFault or TrapCause.InstructionAccessFault
            or TrapCause.InstructionAddressMisaligned => $"{TrapCause.Describe(cause)} at address 0x{value:x}, pc 0x{pc:x}",
        _ => $"{TrapCause.Describe(cause)} at pc 0x{pc:x}",
    };

    private HartStop? ToHost()
    {
        var value = _memory.ReadUInt64(_toHost!.Value);
        if (value == 0)
        {
            return null;
        }

        if ((value & 1) == 1)
        {
            return HartStop.Exited((long)(value >> 1));
        }

        return HartStop.Faulted($"HTIF tohost command 0x{value:x} (syscall proxy) is not supported, pc 0x{State.Pc - 4:x}");
    }

    private HartStop? ExecuteSystem()
    {
        var s = State;
        var offset = s.Pc - _memory.Base;
        var word = *(uint*)(_memory.HostBase + offset);
        var instruction = InstructionDecoder.Decode(word);
        switch (instruction.Op)
        {
            case Opcode.Ecall:
                return s.Mtvec == 0 ? Hypercall() : Trap(TrapCause.EcallFromMachine, 0);
            case Opcode.Mret:
                var mpie = (s.Mstatus & HartState.MstatusMpie) != 0;
                s.Mstatus = (mpie ? HartState.MstatusMie : 0) | HartState.MstatusMpie | HartState.MstatusMpp;
                s.Pc = s.Mepc;
                s.Instret++;
                return null;
            case Opcode.FenceI:
                _cache.InvalidateAll();
                Retire();
                return null;
            case Opcode.Wfi:
                // No interrupt source can wake the hart, so waiting would be forever: behave as a hint.
                Thread.Yield();
                Retire();
                return null;
            case Opcode.Csrrw or Opcode.Csrrs or Opcode.Csrrc or Opcode.Csrrwi or Opcode.Csrrsi or Opcode.Csrrci:
                return ExecuteCsr(instruction, word);
            default:
                // The word changed since it was decoded (stores to code without fence.i): run it afresh.
                _cache.InvalidateAll();
                return null;
        }
    }

    private HartStop? ExecuteCsr(DecodedInstruction instruction, uint word)
    {
        var s = State;
        var csr = instruction.Imm & 0xFFF;
        var immediateForm = instruction.Op is Opcode.Csrrwi or Opcode.Csrrsi or Opcode.Csrrci;
        var operand = immediateForm ? instruction.Rs1 : s[instruction.Rs1];
        var writes = instruction.Op is Opcode.Csrrw or Opcode.Csrrwi || instruction.Rs1 != 0;
        var reads = instruction.Op is not (Opcode.Csrrw or Opcode.Csrrwi) || instruction.Rd != InstructionDecoder.DiscardRegister;

        ulong old = 0;
        if ((reads || writes) && !ControlStatusRegisters.TryRead(s, csr, out old))
        {
            return Trap(TrapCause.IllegalInstruction, word);
        }

        if (writes)
        {
            if (ControlStatusRegisters.IsReadOnly(csr))
            {
                return Trap(TrapCause.IllegalInstruction, word);
            }

            var value = instruction.Op switch
            {
                Opcode.Csrrw or Opcode.Csrrwi => operand,
                Opcode.Csrrs or Opcode.Csrrsi => old | operand,
                _ => old & ~operand,
            };
            ControlStatusRegisters.TryWrite(s, csr, value);
            s.Registers[instruction.Rd] = old;
            s.Pc += 4;
            // A write to the retired-instruction counter replaces this instruction's own increment.
            if (csr is not (ControlStatusRegisters.Mcycle or ControlStatusRegisters.Minstret))
            {
                s.Instret++;
            }

            return null;
        }

        s.Registers[instruction.Rd] = old;
        Retire();
        return null;
    }

    private HartStop? Hypercall()
    {
        var s = State;
        for (var i = 0; i < _arguments.Length; i++)
        {
            _arguments[i] = s.Registers[HypercallDispatcher.ArgumentRegister0 + i];
        }

        var outcome = _hypercalls.Dispatch(s.Registers[HypercallDispatcher.NumberRegister], _arguments);
        switch (outcome.Kind)
        {
            case HypercallOutcomeKind.Complete:
                s.Registers[HypercallDispatcher.ArgumentRegister0] = (ulong)outcome.Value;
                Retire();
                return null;
            case HypercallOutcomeKind.Exit:
                Retire();
                return HartStop.Exited(outcome.Value);
            default:
                return HartStop.Blocked(outcome.WakeAtNanoseconds);
        }
    }

    private void Retire()
    {
        State.Pc += 4;
        State.Instret++;
    }

    public void Dispose()
    {
        _cache.Dispose();
        State.Dispose();
    }
}
