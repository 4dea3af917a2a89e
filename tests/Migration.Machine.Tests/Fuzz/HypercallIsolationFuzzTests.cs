using System.Net;
using CsCheck;
using Migration.Core.Sockets;
using Migration.Machine.Tests.Sockets;
using static Migration.Machine.Tests.Cpu.Asm;
using static Migration.Machine.Tests.Cpu.TestMachine;
using static Migration.Machine.Tests.Sockets.SocketMachine;
using H = Migration.Machine.RiscV.Hypercalls.HypercallNumber;

namespace Migration.Machine.Tests.Fuzz;

/// <summary>
/// Guest isolation: console, socket, socket-option and poll hypercalls given pointer and length pairs that leave RAM
/// (below it, past its end, near 2^64, wrapping) fail with -EFAULT, write nothing, and the guest carries on. Each
/// sample is one guest program that makes every call with several hostile pairs; CsCheck prints the seed of any
/// failing case so it can be replayed.
/// </summary>
public class HypercallIsolationFuzzTests
{
    private const int MsgDontWait = 0x40, SolSocket = 1, SoReuseAddr = 2, SoType = 3;
    private const ulong Good = Structures, Named = Structures + 0x20, Length = Structures + 0x100, OptionValue = Structures + 0x200, Canary = RamEnd - 0x120, Edge = RamEnd - Canary;
    private const long EAgain = -SocketErrno.EAGAIN, EDestAddrReq = -SocketErrno.EDESTADDRREQ;

    private static Arg U(ulong value) => unchecked((long)value);

    private static Arg Reg(int register) => Arg.InRegister(register);

    [Fact]
    public async Task Hypercalls_with_pointers_leaving_RAM_fail_with_EFAULT_and_write_nothing()
    {
        await HostilePointer.Buffer.Select(HostilePointer.Structure).Array[4, 8].SampleAsync(
            async pairs =>
            {
                var p = new SocketProgram();
                p.Call(H.Socket, 2, 2, 0);
                p.Keep(S1);
                p.Call(H.Socket, 2, 2, 0);
                p.Keep(S2);
                var goodBind = p.Call(H.Bind, Reg(S1), U(Good), 16);
                var goodName = p.Call(H.GetSocketName, Reg(S1), U(Named), U(Length));
                var faults = new List<(int Slot, string Call)>();
                var receives = new List<(int Slot, string Call)>();
                var noDestination = new List<(int Slot, string Call)>();
                foreach (var (buffer, structure) in pairs)
                {
                    faults.Add((p.Call(H.ConsoleWrite, U(buffer.Address), U(buffer.Length)), $"console write {buffer}"));
                    faults.Add((p.Call(H.SendTo, Reg(S1), U(buffer.Address), U(buffer.Length), 0, U(Named), 16), $"sendto buffer {buffer}"));
                    faults.Add((p.Call(H.Send, Reg(S1), U(buffer.Address), U(buffer.Length), 0), $"send buffer {buffer}"));
                    receives.Add((p.Call(H.Receive, Reg(S1), U(buffer.Address), U(buffer.Length), MsgDontWait), $"recv buffer {buffer}"));
                    receives.Add((p.Call(H.ReceiveFrom, Reg(S1), U(buffer.Address), U(buffer.Length), MsgDontWait, 0, 0), $"recvfrom buffer {buffer}"));
                    faults.Add((p.Call(H.Bind, Reg(S2), U(structure.Address), 16), $"bind sockaddr {structure}"));
                    faults.Add((p.Call(H.Connect, Reg(S2), U(structure.Address), 16), $"connect sockaddr {structure}"));
                    // A null destination means "no address", as in Linux: an unconnected socket has none to send to.
                    var sendTo = p.Call(H.SendTo, Reg(S1), U(Buffers), 4, 0, U(structure.Address), 16);
                    (structure.Address == 0 ? noDestination : faults).Add((sendTo, $"sendto sockaddr {structure}"));
                    faults.Add((p.Call(H.GetSocketName, Reg(S1), U(structure.Address), U(Length)), $"getsockname sockaddr {structure}"));
                    faults.Add((p.Call(H.GetSocketName, Reg(S1), U(Named), U(structure.Address)), $"getsockname length {structure}"));
                    faults.Add((p.Call(H.GetSocketOption, Reg(S1), SolSocket, SoType, U(structure.Address), U(Length)), $"getsockopt value {structure}"));
                    faults.Add((p.Call(H.GetSocketOption, Reg(S1), SolSocket, SoType, U(OptionValue), U(structure.Address)), $"getsockopt length {structure}"));
                    faults.Add((p.Call(H.SetSocketOption, Reg(S1), SolSocket, SoReuseAddr, U(structure.Address), 4), $"setsockopt value {structure}"));
                    faults.Add((p.Call(H.PollUntil, U(structure.Address), 1, 0), $"poll table {structure}"));
                }

                var goodSend = p.Call(H.SendTo, Reg(S1), U(Buffers), 3, 0, U(Named), 16);
                var canary = Enumerable.Repeat((byte)0xA5, 0x100).ToArray();
                using var m = Create(p, Data(Good, SockaddrIn(IPAddress.Loopback, 0)), Data(Length, UInt32(16)), Data(Buffers, "abcd"u8.ToArray()), Data(Canary, canary));

                // RAM's last bytes (the canary, then the argument block) are where a range straddling the end would land.
                var edge = m.ReadMemory(Canary, (int)Edge);

                await m.RunToExit();

                Assert.Equal(0, m.Result(goodBind));
                Assert.Equal(0, m.Result(goodName));
                foreach (var (slot, call) in faults)
                {
                    Assert.True(m.Result(slot) == EFault, $"{call}: {m.Result(slot)}, expected -EFAULT");
                }

                // With nothing queued a non-blocking receive may also say so first, as Linux does.
                foreach (var (slot, call) in receives)
                {
                    Assert.True(m.Result(slot) is EFault or EAgain, $"{call}: {m.Result(slot)}, expected -EFAULT or -EAGAIN");
                }

                foreach (var (slot, call) in noDestination)
                {
                    Assert.True(m.Result(slot) == EDestAddrReq, $"{call}: {m.Result(slot)}, expected -EDESTADDRREQ");
                }

                Assert.Equal(3, m.Result(goodSend));
                Assert.Equal(edge, m.ReadMemory(Canary, (int)Edge));
            },
            iter: 200,
            threads: 1);
    }
}
