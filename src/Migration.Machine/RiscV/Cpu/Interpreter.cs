using System.Runtime.CompilerServices;
using Migration.Core.Memory;

namespace Migration.Machine.RiscV.Cpu;

/// <summary>
/// The hot loop: runs pre-decoded instructions through an instruction pointer into the decode cache.
/// </summary>
/// <remarks>
/// Measured on our hosts (FACTS.md): pre-decoded records reached by pointer, x0 writes absorbed by a scratch
/// slot, and no calls inside the loop roughly double the speed of a fetch-decode-execute loop. Everything
/// rare — traps, CSRs, page changes, stop requests — therefore leaves the loop with an <see cref="ExitReason"/>
/// and is handled by <see cref="Hart"/>. The stop flag and the instruction limit are checked only at taken
/// branches and page crossings, which bounds the stop latency by one page of straight-line code.
/// Stores write their data before setting the dirty bit, with a release store (a plain move on x64); see
/// <see cref="DirtyLog"/> for why that order matters.
/// </remarks>
internal sealed unsafe class Interpreter(GuestMemory memory, DecodeCache cache)
{
    private const ulong NoHtif = ulong.MaxValue - 64;

    /// <summary>Offset of the HTIF tohost word from the RAM base, or a value no store can overlap.</summary>
    public ulong ToHostOffset { get; set; } = NoHtif;

    [SkipLocalsInit]
    public ExitReason Run(HartState s, ulong instructionLimit)
    {
        var x = s.Registers;
        var mem = memory.HostBase;
        var memBase = memory.Base;
        var memSize = memory.Size;
        var dirty = memory.DirtyLog.Bits;
        var table = cache.Table;
        var tohost = ToHostOffset;
        var retired = s.Instret;
        var target = s.Pc;
        DecodedInstruction* ip;
        DecodedInstruction* pageStart;
        ulong pageBase;
        ulong pc, a, off, page, lastPage;
        long imm;

        while (true)
        {
            off = target - memBase;
            if (off >= memSize || table[off >> GuestMemory.PageShift] == null)
            {
                s.Pc = target;
                s.Instret = retired;
                return ExitReason.FetchMiss;
            }

            pageStart = table[off >> GuestMemory.PageShift];
            pageBase = target & ~(ulong)(GuestMemory.PageSize - 1);
            ip = pageStart + ((off & (GuestMemory.PageSize - 1)) >> 2);

            while (true)
            {
                while (true)
                {
                    switch (ip->Op)
                    {
                        case Opcode.Addi: x[ip->Rd] = x[ip->Rs1] + (ulong)(long)ip->Imm; break;
                        case Opcode.Slti: x[ip->Rd] = (long)x[ip->Rs1] < ip->Imm ? 1UL : 0UL; break;
                        case Opcode.Sltiu: x[ip->Rd] = x[ip->Rs1] < (ulong)(long)ip->Imm ? 1UL : 0UL; break;
                        case Opcode.Xori: x[ip->Rd] = x[ip->Rs1] ^ (ulong)(long)ip->Imm; break;
                        case Opcode.Ori: x[ip->Rd] = x[ip->Rs1] | (ulong)(long)ip->Imm; break;
                        case Opcode.Andi: x[ip->Rd] = x[ip->Rs1] & (ulong)(long)ip->Imm; break;
                        case Opcode.Slli: x[ip->Rd] = x[ip->Rs1] << ip->Imm; break;
                        case Opcode.Srli: x[ip->Rd] = x[ip->Rs1] >> ip->Imm; break;
                        case Opcode.Srai: x[ip->Rd] = (ulong)((long)x[ip->Rs1] >> ip->Imm); break;
                        case Opcode.Lui: x[ip->Rd] = (ulong)(long)ip->Imm; break;
                        case Opcode.Auipc: x[ip->Rd] = PcOf(ip, pageStart, pageBase) + (ulong)(long)ip->Imm; break;

                        case Opcode.Add: x[ip->Rd] = x[ip->Rs1] + x[ip->Rs2]; break;
                        case Opcode.Sub: x[ip->Rd] = x[ip->Rs1] - x[ip->Rs2]; break;
                        case Opcode.Sll: x[ip->Rd] = x[ip->Rs1] << (int)x[ip->Rs2]; break;
                        case Opcode.Slt: x[ip->Rd] = (long)x[ip->Rs1] < (long)x[ip->Rs2] ? 1UL : 0UL; break;
                        case Opcode.Sltu: x[ip->Rd] = x[ip->Rs1] < x[ip->Rs2] ? 1UL : 0UL; break;
                        case Opcode.Xor: x[ip->Rd] = x[ip->Rs1] ^ x[ip->Rs2]; break;
                        case Opcode.Srl: x[ip->Rd] = x[ip->Rs1] >> (int)x[ip->Rs2]; break;
                        case Opcode.Sra: x[ip->Rd] = (ulong)((long)x[ip->Rs1] >> (int)x[ip->Rs2]); break;
                        case Opcode.Or: x[ip->Rd] = x[ip->Rs1] | x[ip->Rs2]; break;
                        case Opcode.And: x[ip->Rd] = x[ip->Rs1] & x[ip->Rs2]; break;

                        case Opcode.Addiw: x[ip->Rd] = (ulong)(long)(int)((uint)x[ip->Rs1] + (uint)ip->Imm); break;
                        case Opcode.Slliw: x[ip->Rd] = (ulong)(long)(int)((uint)x[ip->Rs1] << ip->Imm); break;
                        case Opcode.Srliw: x[ip->Rd] = (ulong)(long)(int)((uint)x[ip->Rs1] >> ip->Imm); break;
                        case Opcode.Sraiw: x[ip->Rd] = (ulong)(long)((int)x[ip->Rs1] >> ip->Imm); break;
                        case Opcode.Addw: x[ip->Rd] = (ulong)(long)(int)((uint)x[ip->Rs1] + (uint)x[ip->Rs2]); break;
                        case Opcode.Subw: x[ip->Rd] = (ulong)(long)(int)((uint)x[ip->Rs1] - (uint)x[ip->Rs2]); break;
                        case Opcode.Sllw: x[ip->Rd] = (ulong)(long)(int)((uint)x[ip->Rs1] << (int)(x[ip->Rs2] & 31)); break;
                        case Opcode.Srlw: x[ip->Rd] = (ulong)(long)(int)((uint)x[ip->Rs1] >> (int)(x[ip->Rs2] & 31)); break;
                        case Opcode.Sraw: x[ip->Rd] = (ulong)(long)((int)x[ip->Rs1] >> (int)(x[ip->Rs2] & 31)); break;

                        case Opcode.Mul: x[ip->Rd] = x[ip->Rs1] * x[ip->Rs2]; break;
                        case Opcode.Mulh: x[ip->Rd] = (ulong)Math.BigMul((long)x[ip->Rs1], (long)x[ip->Rs2], out _); break;
                        case Opcode.Mulhu: x[ip->Rd] = Math.BigMul(x[ip->Rs1], x[ip->Rs2], out _); break;
                        case Opcode.Mulhsu:
                            a = x[ip->Rs1];
                            // Unsigned high product, corrected for a negative signed operand: (a - 2^64)·b = a·b - 2^64·b.
                            x[ip->Rd] = Math.BigMul(a, x[ip->Rs2], out _) - ((long)a < 0 ? x[ip->Rs2] : 0);
                            break;
                        case Opcode.Div:
                            {
                                var n = (long)x[ip->Rs1];
                                var d = (long)x[ip->Rs2];
                                x[ip->Rd] = d == 0 ? ulong.MaxValue : (d == -1 ? (ulong)unchecked(-n) : (ulong)(n / d));
                                break;
                            }

                        case Opcode.Divu:
                            a = x[ip->Rs2];
                            x[ip->Rd] = a == 0 ? ulong.MaxValue : x[ip->Rs1] / a;
                            break;
                        case Opcode.Rem:
                            {
                                var n = (long)x[ip->Rs1];
                                var d = (long)x[ip->Rs2];
                                x[ip->Rd] = d == 0 ? (ulong)n : (d == -1 ? 0 : (ulong)(n % d));
                                break;
                            }

                        case Opcode.Remu:
                            a = x[ip->Rs2];
                            x[ip->Rd] = a == 0 ? x[ip->Rs1] : x[ip->Rs1] % a;
                            break;
                        case Opcode.Mulw: x[ip->Rd] = (ulong)(long)(int)((uint)x[ip->Rs1] * (uint)x[ip->Rs2]); break;
                        case Opcode.Divw:
                            {
                                var n = (int)x[ip->Rs1];
                                var d = (int)x[ip->Rs2];
                                x[ip->Rd] = (ulong)(long)(d == 0 ? -1 : (d == -1 ? unchecked(-n) : n / d));
                                break;
                            }

                        case Opcode.Divuw:
                            {
                                var d = (uint)x[ip->Rs2];
                                x[ip->Rd] = (ulong)(long)(int)(d == 0 ? uint.MaxValue : (uint)x[ip->Rs1] / d);
                                break;
                            }

                        case Opcode.Remw:
                            {
                                var n = (int)x[ip->Rs1];
                                var d = (int)x[ip->Rs2];
                                x[ip->Rd] = (ulong)(long)(d == 0 ? n : (d == -1 ? 0 : n % d));
                                break;
                            }

                        case Opcode.Remuw:
                            {
                                var d = (uint)x[ip->Rs2];
                                x[ip->Rd] = (ulong)(long)(int)(d == 0 ? (uint)x[ip->Rs1] : (uint)x[ip->Rs1] % d);
                                break;
                            }

                        case Opcode.Lb:
                            off = x[ip->Rs1] + (ulong)(long)ip->Imm - memBase;
                            if (off > memSize - 1) goto LoadFault;
                            x[ip->Rd] = (ulong)(long)*(sbyte*)(mem + off);
                            break;
                        case Opcode.Lbu:
                            off = x[ip->Rs1] + (ulong)(long)ip->Imm - memBase;
                            if (off > memSize - 1) goto LoadFault;
                            x[ip->Rd] = mem[off];
                            break;
                        case Opcode.Lh:
                            off = x[ip->Rs1] + (ulong)(long)ip->Imm - memBase;
                            if (off > memSize - 2) goto LoadFault;
                            x[ip->Rd] = (ulong)(long)Unsafe.ReadUnaligned<short>(mem + off);
                            break;
                        case Opcode.Lhu:
                            off = x[ip->Rs1] + (ulong)(long)ip->Imm - memBase;
                            if (off > memSize - 2) goto LoadFault;
                            x[ip->Rd] = Unsafe.ReadUnaligned<ushort>(mem + off);
                            break;
                        case Opcode.Lw:
                            off = x[ip->Rs1] + (ulong)(long)ip->Imm - memBase;
                            if (off > memSize - 4) goto LoadFault;
                            x[ip->Rd] = (ulong)(long)Unsafe.ReadUnaligned<int>(mem + off);
                            break;
                        case Opcode.Lwu:
                            off = x[ip->Rs1] + (ulong)(long)ip->Imm - memBase;
                            if (off > memSize - 4) goto LoadFault;
                            x[ip->Rd] = Unsafe.ReadUnaligned<uint>(mem + off);
                            break;
                        case Opcode.Ld:
                            off = x[ip->Rs1] + (ulong)(long)ip->Imm - memBase;
                            if (off > memSize - 8) goto LoadFault;
                            x[ip->Rd] = Unsafe.ReadUnaligned<ulong>(mem + off);
                            break;

                        case Opcode.Sb:
                            off = x[ip->Rs1] + (ulong)(long)ip->Imm - memBase;
                            if (off > memSize - 1) goto StoreFault;
                            mem[off] = (byte)x[ip->Rs2];
                            page = off >> GuestMemory.PageShift;
                            Volatile.Write(ref dirty[page >> 6], dirty[page >> 6] | (1UL << (int)page));
                            if (off - tohost < 8) goto ToHost;
                            break;
                        case Opcode.Sh:
                            off = x[ip->Rs1] + (ulong)(long)ip->Imm - memBase;
                            if (off > memSize - 2) goto StoreFault;
                            Unsafe.WriteUnaligned(mem + off, (ushort)x[ip->Rs2]);
                            imm = 2;
                            goto MarkStore;
                        case Opcode.Sw:
                            off = x[ip->Rs1] + (ulong)(long)ip->Imm - memBase;
                            if (off > memSize - 4) goto StoreFault;
                            Unsafe.WriteUnaligned(mem + off, (uint)x[ip->Rs2]);
                            imm = 4;
                            goto MarkStore;
                        case Opcode.Sd:
                            off = x[ip->Rs1] + (ulong)(long)ip->Imm - memBase;
                            if (off > memSize - 8) goto StoreFault;
                            Unsafe.WriteUnaligned(mem + off, x[ip->Rs2]);
                            imm = 8;
                            goto MarkStore;

                        case Opcode.Beq: if (x[ip->Rs1] == x[ip->Rs2]) goto Branch; break;
                        case Opcode.Bne: if (x[ip->Rs1] != x[ip->Rs2]) goto Branch; break;
                        case Opcode.Blt: if ((long)x[ip->Rs1] < (long)x[ip->Rs2]) goto Branch; break;
                        case Opcode.Bge: if ((long)x[ip->Rs1] >= (long)x[ip->Rs2]) goto Branch; break;
                        case Opcode.Bltu: if (x[ip->Rs1] < x[ip->Rs2]) goto Branch; break;
                        case Opcode.Bgeu: if (x[ip->Rs1] >= x[ip->Rs2]) goto Branch; break;

                        case Opcode.Jal:
                            pc = PcOf(ip, pageStart, pageBase);
                            target = pc + (ulong)(long)ip->Imm;
                            if ((target & 3) != 0) goto MisalignedTarget;
                            x[ip->Rd] = pc + 4;
                            goto Taken;
                        case Opcode.Jalr:
                            pc = PcOf(ip, pageStart, pageBase);
                            target = (x[ip->Rs1] + (ulong)(long)ip->Imm) & ~1UL;
                            if ((target & 3) != 0) goto MisalignedTarget;
                            x[ip->Rd] = pc + 4;
                            goto Taken;

                        case Opcode.Fence: break;

                        case Opcode.PageEnd:
                            target = pageBase + GuestMemory.PageSize;
                            if (retired >= instructionLimit || s.StopRequested != 0)
                            {
                                s.Pc = target;
                                s.Instret = retired;
                                return ExitReason.Stopped;
                            }

                            goto NextPage;

                        case Opcode.Ebreak:
                            s.PendingCause = TrapCause.Breakpoint;
                            s.PendingValue = PcOf(ip, pageStart, pageBase);
                            goto TrapExit;
                        case Opcode.Illegal:
                            s.PendingCause = TrapCause.IllegalInstruction;
                            s.PendingValue = (uint)ip->Imm;
                            goto TrapExit;
                        default:
                            s.Pc = PcOf(ip, pageStart, pageBase);
                            s.Instret = retired;
                            return ExitReason.System;
                    }

                    ip++;
                    retired++;
                    continue;

                MarkStore:
                    page = off >> GuestMemory.PageShift;
                    Volatile.Write(ref dirty[page >> 6], dirty[page >> 6] | (1UL << (int)page));
                    lastPage = (off + (ulong)imm - 1) >> GuestMemory.PageShift;
                    if (lastPage != page)
                    {
                        Volatile.Write(ref dirty[lastPage >> 6], dirty[lastPage >> 6] | (1UL << (int)lastPage));
                    }

                    // Overlap of [off, off+width) with the 8-byte tohost word, as one unsigned compare.
                    if (off + (ulong)imm - 1 - tohost < (ulong)imm + 7) goto ToHost;
                    ip++;
                    retired++;
                }

            Branch:
                pc = PcOf(ip, pageStart, pageBase);
                target = pc + (ulong)(long)ip->Imm;
                if ((target & 3) != 0) goto MisalignedTarget;

            Taken:
                retired++;
                if (retired >= instructionLimit || s.StopRequested != 0)
                {
                    s.Pc = target;
                    s.Instret = retired;
                    return ExitReason.Stopped;
                }

                if ((target & ~(ulong)(GuestMemory.PageSize - 1)) == pageBase)
                {
                    ip = pageStart + ((target & (GuestMemory.PageSize - 1)) >> 2);
                    continue;
                }

            NextPage:
                break;

            ToHost:
                s.Pc = PcOf(ip, pageStart, pageBase) + 4;
                s.Instret = retired + 1;
                return ExitReason.ToHost;

            MisalignedTarget:
                s.PendingCause = TrapCause.InstructionAddressMisaligned;
                s.PendingValue = target;
                goto TrapExit;

            LoadFault:
                s.PendingCause = TrapCause.LoadAccessFault;
                s.PendingValue = off + memBase;
                goto TrapExit;

            StoreFault:
                s.PendingCause = TrapCause.StoreAccessFault;
                s.PendingValue = off + memBase;

            TrapExit:
                s.Pc = PcOf(ip, pageStart, pageBase);
                s.Instret = retired;
                return ExitReason.Trap;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong PcOf(DecodedInstruction* ip, DecodedInstruction* pageStart, ulong pageBase) =>
        pageBase + ((ulong)(ip - pageStart) << 2);
}
