using System.Buffers.Binary;
using System.Net;
using Migration.Core.Machines;
using Migration.Core.Memory;
using Migration.Core.Sockets;
using Migration.Machine.RiscV.Hypercalls;
using static Migration.Machine.Tests.Cpu.Asm;
using static Migration.Machine.Tests.Cpu.TestMachine;
using static Migration.Machine.Tests.Sockets.SocketMachine;
using H = Migration.Machine.RiscV.Hypercalls.HypercallNumber;

namespace Migration.Machine.Tests.Sockets;

/// <summary>
/// The socket hypercall ABI: every guest pointer and length is checked (a bad one is -EFAULT and the guest carries on),
/// results land in guest memory as Linux lays them out, and blocking calls are restartable.
/// </summary>
public class SocketHypercallTests
{
    private const long EInval = -SocketErrno.EINVAL, EAfNoSupport = -SocketErrno.EAFNOSUPPORT, EAgain = -SocketErrno.EAGAIN;
    private const int SolSocket = 1, SoType = 3, SoReuseAddr = 2, SoLinger = 13, MsgDontWait = 0x40;

    private static Arg U(ulong value) => unchecked((long)value);

    private static Arg Reg(int register) => Arg.InRegister(register);

    [Theory]
    [InlineData(0x10UL, 4UL)]
    [InlineData(RamBase - 1, 2UL)]
    [InlineData(RamEnd - 2, 4UL)]
    [InlineData(RamEnd, 1UL)]
    [InlineData(0xFFFF_FFFF_FFFF_FFF0UL, 0x20UL)]
    [InlineData(RamBase + 0x10, 0xFFFF_FFFF_FFFF_FFF8UL)]
    public async Task Send_and_receive_with_a_buffer_outside_RAM_return_EFAULT_and_the_guest_continues(ulong address, ulong length)
    {
        var p = new SocketProgram();
        var send = p.Call(H.Send, 1, U(address), U(length), 0);
        var receive = p.Call(H.Receive, 1, U(address), U(length), 0);
        var receiveFrom = p.Call(H.ReceiveFrom, 1, U(address), U(length), 0, 0, 0);
        var sendTo = p.Call(H.SendTo, 1, U(address), U(length), 0, 0, 0);
        var goodSend = p.Call(H.Send, 1, U(Buffers), 3, 0);
        var goodReceive = p.Call(H.Receive, 1, U(Buffers + 0x1000), 100, 0);
        using var m = Create(p, Data(Buffers, "abc"u8.ToArray()));
        using var client = await m.Connection();
        await client.GetStream().WriteAsync(new byte[] { 10, 11, 12, 13, 14 });
        await m.WaitUntil(1, s => s.ReceiveQueue.Count == 5, "the client's bytes are queued");

        await m.RunToExit();

        Assert.Equal(EFault, m.Result(send));
        Assert.Equal(EFault, m.Result(receive));
        Assert.Equal(EFault, m.Result(receiveFrom));
        Assert.Equal(EFault, m.Result(sendTo));
        // The faulting receives took nothing: every byte is still there for the good one.
        Assert.Equal(5, m.Result(goodReceive));
        Assert.Equal([10, 11, 12, 13, 14], m.ReadMemory(Buffers + 0x1000, 5));
        // The faulting sends sent nothing: the first bytes the client sees are the good send's.
        Assert.Equal(3, m.Result(goodSend));
        var received = new byte[3];
        using var timeout = new CancellationTokenSource(WaitLimit);
        await client.GetStream().ReadExactlyAsync(received, timeout.Token);
        Assert.Equal("abc"u8.ToArray(), received);
    }

    [Theory]
    [InlineData(0x10UL)]
    [InlineData(RamBase - 8)]
    [InlineData(RamEnd - 8)]
    [InlineData(RamEnd)]
    [InlineData(0xFFFF_FFFF_FFFF_FFF8UL)]
    public async Task Calls_with_a_sockaddr_or_length_pointer_outside_RAM_return_EFAULT(ulong address)
    {
        const ulong good = Structures, length = Structures + 0x100, named = Structures + 0x20;
        var p = new SocketProgram();
        p.Call(H.Socket, 2, 1, 0);
        p.Keep(S1);
        p.Call(H.Socket, 2, 2, 0);
        p.Keep(S2);
        var bind = p.Call(H.Bind, Reg(S1), U(address), 16);
        var connect = p.Call(H.Connect, Reg(S1), U(address), 16);
        var sendTo = p.Call(H.SendTo, Reg(S2), U(Buffers), 4, 0, U(address), 16);
        var nameAt = p.Call(H.GetSocketName, Reg(S1), U(address), U(length));
        // A 4-byte length at address + 6 is outside RAM or straddles its edge for every address here.
        var nameLength = p.Call(H.GetSocketName, Reg(S1), U(named), U(address + 6));
        var peerLength = p.Call(H.GetPeerName, Reg(S2), U(named), U(address + 6));
        var goodBind = p.Call(H.Bind, Reg(S1), U(good), 16);
        var goodName = p.Call(H.GetSocketName, Reg(S1), U(named), U(length));
        using var m = Create(p, Data(good, SockaddrIn(IPAddress.Loopback, 0)), Data(length, UInt32(16)));

        await m.RunToExit();

        Assert.Equal(EFault, m.Result(bind));
        Assert.Equal(EFault, m.Result(connect));
        Assert.Equal(EFault, m.Result(sendTo));
        Assert.Equal(EFault, m.Result(nameAt));
        Assert.Equal(EFault, m.Result(nameLength));
        Assert.Equal(-SocketErrno.ENOTCONN, m.Result(peerLength));
        Assert.Equal(0, m.Result(goodBind));
        Assert.Equal(0, m.Result(goodName));

        // The failed calls changed nothing: the socket bound once, where the good call asked.
        int port;
        lock (m.Sockets.SyncRoot)
        {
            var socket = m.Sockets.Find(0)!;
            Assert.Equal(SocketStatus.Bound, socket.Status);
            port = socket.LocalAddress!.Port;
            Assert.Null(m.Sockets.Find(1)!.LocalAddress);
        }

        Assert.Equal(SockaddrIn(IPAddress.Loopback, port), m.ReadMemory(named, 16));
        Assert.Equal(16u, BinaryPrimitives.ReadUInt32LittleEndian(m.ReadMemory(length, 4)));
    }

    [Fact]
    public async Task Address_lengths_families_and_arguments_are_checked()
    {
        const ulong v4 = Structures, unix = Structures + 0x40, v6 = Structures + 0x80;
        var p = new SocketProgram();
        p.Call(H.Socket, 2, 1, 0);
        p.Keep(S1);
        var shortV4 = p.Call(H.Bind, Reg(S1), U(v4), 8);
        var emptyLength = p.Call(H.Bind, Reg(S1), U(v4), 0);
        var hugeLength = p.Call(H.Bind, Reg(S1), U(v4), 129);
        var unknownFamily = p.Call(H.Bind, Reg(S1), U(unix), 16);
        var shortV6 = p.Call(H.Bind, Reg(S1), U(v6), 16);
        var wrongFamily = p.Call(H.Bind, Reg(S1), U(v6), 28);
        var connectShort = p.Call(H.Connect, Reg(S1), U(v4), 15);
        var connectUnknown = p.Call(H.Connect, Reg(S1), U(unix), 16);
        var socketFamily = p.Call(H.Socket, 1, 1, 0);
        var socketProtocol = p.Call(H.Socket, 2, 1, 17);
        var socketType = p.Call(H.Socket, 2, 3, 0);
        var closeUnknown = p.Call(H.Close, 7);
        var shutdownHow = p.Call(H.Shutdown, Reg(S1), 3);
        var listenUnbound = p.Call(H.Listen, Reg(S1), 1);
        var sixteen = p.Call(H.Bind, Reg(S1), U(v4), 16);
        var bindAgain = p.Call(H.Bind, Reg(S1), U(v4), 16);
        var unknownCall = p.Call((H)33, 0);
        var v6Bytes = new byte[28];
        BinaryPrimitives.WriteUInt16LittleEndian(v6Bytes, 10);
        IPAddress.IPv6Loopback.GetAddressBytes().CopyTo(v6Bytes, 8);
        using var m = Create(p, Data(v4, SockaddrIn(IPAddress.Loopback, 0)), Data(unix, SockaddrIn(IPAddress.Loopback, 0, family: 1)), Data(v6, v6Bytes));

        await m.RunToExit();

        Assert.Equal(EInval, m.Result(shortV4));
        Assert.Equal(EInval, m.Result(emptyLength));
        Assert.Equal(EInval, m.Result(hugeLength));
        Assert.Equal(EAfNoSupport, m.Result(unknownFamily));
        Assert.Equal(EInval, m.Result(shortV6));
        Assert.Equal(EAfNoSupport, m.Result(wrongFamily));
        Assert.Equal(EInval, m.Result(connectShort));
        Assert.Equal(EAfNoSupport, m.Result(connectUnknown));
        Assert.Equal(EAfNoSupport, m.Result(socketFamily));
        Assert.Equal(-SocketErrno.EPROTONOSUPPORT, m.Result(socketProtocol));
        Assert.Equal(-SocketErrno.EPROTONOSUPPORT, m.Result(socketType));
        Assert.Equal(-SocketErrno.EBADF, m.Result(closeUnknown));
        Assert.Equal(EInval, m.Result(shutdownHow));
        Assert.Equal(EInval, m.Result(listenUnbound));
        Assert.Equal(0, m.Result(sixteen));
        Assert.Equal(EInval, m.Result(bindAgain));
        Assert.Equal(-Errno.ENOSYS, m.Result(unknownCall));
    }

    [Theory]
    [InlineData(RamEnd)]
    [InlineData(RamEnd - 2)]
    [InlineData(0x100UL)]
    public async Task Accept_with_a_bad_addrlen_pointer_is_EFAULT_and_loses_no_connection(ulong lengthPointer)
    {
        const ulong address = Structures, length = Structures + 0x40;
        var p = new SocketProgram();
        var bad = p.Call(H.Accept, 0, U(address), U(lengthPointer), 0);
        var again = p.Call(H.Accept, 0, U(address), U(lengthPointer), 0x800);
        var good = p.Call(H.Accept, 0, U(address), U(length), 0x800);
        var none = p.Call(H.Accept, 0, 0, 0, 0);
        using var m = Create(p, Data(length, UInt32(16)));
        var (listener, endpoint) = m.Listen(blocking: false);
        Assert.Equal(0, listener);
        using var client = await ConnectClient(endpoint);
        await m.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the connection is queued");

        await m.RunToExit();

        Assert.Equal(EFault, m.Result(bad));
        Assert.Equal(EFault, m.Result(again));
        Assert.Equal(1, m.Result(good));
        Assert.Equal(EAgain, m.Result(none));
        var clientEnd = (IPEndPoint)client.Client.LocalEndPoint!;
        Assert.Equal(SockaddrIn(IPAddress.Loopback, clientEnd.Port), m.ReadMemory(address, 16));
        Assert.Equal(16u, BinaryPrimitives.ReadUInt32LittleEndian(m.ReadMemory(length, 4)));
        lock (m.Sockets.SyncRoot)
        {
            Assert.Empty(m.Sockets.Find(listener)!.ConnectionQueue);
            var accepted = m.Sockets.Find(1)!;
            Assert.Equal(SocketStatus.Connected, accepted.Status);
            Assert.False(accepted.Blocking);
        }
    }

    [Fact]
    public async Task Accept_with_a_bad_address_buffer_is_EFAULT_and_loses_no_connection()
    {
        const ulong address = Structures, length = Structures + 0x40;
        var p = new SocketProgram();
        var bad = p.Call(H.Accept, 0, 0x10, U(length), 0);
        var good = p.Call(H.Accept, 0, U(address), U(length), 0x800);
        using var m = Create(p, Data(length, UInt32(16)));
        var (listener, endpoint) = m.Listen(blocking: false);
        using var client = await ConnectClient(endpoint);
        await m.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the connection is queued");

        await m.RunToExit();

        Assert.Equal(EFault, m.Result(bad));
        Assert.Equal(1, m.Result(good));
        Assert.Equal(2, m.Sockets.Count);
    }

    [Fact]
    public async Task Accept_truncates_the_address_to_the_guests_buffer_and_reports_the_full_size()
    {
        const ulong address = Structures, length = Structures + 0x40;
        var p = new SocketProgram();
        var accepted = p.Call(H.Accept, 0, U(address), U(length), 0);
        using var m = Create(p, Data(address, Enumerable.Repeat((byte)0xEE, 16).ToArray()), Data(length, UInt32(6)));
        var (listener, endpoint) = m.Listen(blocking: false);
        using var client = await ConnectClient(endpoint);
        await m.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the connection is queued");

        await m.RunToExit();

        Assert.Equal(1, m.Result(accepted));
        var port = ((IPEndPoint)client.Client.LocalEndPoint!).Port;
        Assert.Equal(SockaddrIn(IPAddress.Loopback, port)[..6], m.ReadMemory(address, 6));
        Assert.Equal(Enumerable.Repeat((byte)0xEE, 10), m.ReadMemory(address + 6, 10));
        Assert.Equal(16u, BinaryPrimitives.ReadUInt32LittleEndian(m.ReadMemory(length, 4)));
    }

    [Fact]
    public async Task Poll_until_checks_its_table_and_writes_revents()
    {
        const ulong table = Structures;
        var p = new SocketProgram();
        p.Call(H.Socket, 2, 2, 0);
        var outside = p.Call(H.PollUntil, 0x10, 1, 0);
        var straddling = p.Call(H.PollUntil, U(RamEnd - 4), 1, 0);
        var tooLongForRam = p.Call(H.PollUntil, U(RamEnd - 80), 4096, 0);
        var tooMany = p.Call(H.PollUntil, U(table), 4097, 0);
        var overflowing = p.Call(H.PollUntil, U(table), 1L << 61, 0);
        var none = p.Call(H.PollUntil, U(table), 0, 0);
        var good = p.Call(H.PollUntil, U(table), 3, 0);
        var entries = new byte[24];
        BinaryPrimitives.WriteInt32LittleEndian(entries, 0);
        BinaryPrimitives.WriteInt16LittleEndian(entries.AsSpan(4), (short)(SocketEvents.Readable | SocketEvents.Writable));
        BinaryPrimitives.WriteInt16LittleEndian(entries.AsSpan(6), 0x7777);
        BinaryPrimitives.WriteInt32LittleEndian(entries.AsSpan(8), 9);
        BinaryPrimitives.WriteInt16LittleEndian(entries.AsSpan(12), (short)SocketEvents.Readable);
        BinaryPrimitives.WriteInt32LittleEndian(entries.AsSpan(16), -1);
        BinaryPrimitives.WriteInt16LittleEndian(entries.AsSpan(20), (short)SocketEvents.Readable);
        BinaryPrimitives.WriteInt16LittleEndian(entries.AsSpan(22), 0x5555);
        using var m = Create(p, Data(table, entries));

        await m.RunToExit();

        Assert.Equal(EFault, m.Result(outside));
        Assert.Equal(EFault, m.Result(straddling));
        Assert.Equal(EFault, m.Result(tooLongForRam));
        Assert.Equal(EInval, m.Result(tooMany));
        Assert.Equal(EInval, m.Result(overflowing));
        Assert.Equal(0, m.Result(none));
        Assert.Equal(2, m.Result(good));
        var written = m.ReadMemory(table, 24);
        Assert.Equal((short)SocketEvents.Writable, BinaryPrimitives.ReadInt16LittleEndian(written.AsSpan(6)));
        Assert.Equal((short)SocketEvents.Invalid, BinaryPrimitives.ReadInt16LittleEndian(written.AsSpan(14)));
        Assert.Equal(0, BinaryPrimitives.ReadInt16LittleEndian(written.AsSpan(22)));
        // Only revents is written; handles and requested events stay as the guest left them.
        Assert.Equal(entries[..6], written[..6]);
        Assert.Equal(entries[8..14], written[8..14]);
    }

    [Fact]
    public async Task Socket_options_check_their_value_and_length_pointers()
    {
        const ulong value = Structures, length = Structures + 0x40, linger = Structures + 0x80, lingerLength = Structures + 0xC0;
        var p = new SocketProgram();
        p.Call(H.Socket, 2, 1, 0);
        var getBadLength = p.Call(H.GetSocketOption, 0, SolSocket, SoType, U(value), U(RamEnd));
        var getStraddlingLength = p.Call(H.GetSocketOption, 0, SolSocket, SoType, U(value), U(RamEnd - 2));
        var getBadValue = p.Call(H.GetSocketOption, 0, SolSocket, SoType, U(RamEnd - 2), U(length));
        var setBadValue = p.Call(H.SetSocketOption, 0, SolSocket, SoReuseAddr, U(RamEnd - 2), 4);
        var setShort = p.Call(H.SetSocketOption, 0, SolSocket, SoReuseAddr, U(value), 2);
        var setLong = p.Call(H.SetSocketOption, 0, SolSocket, SoReuseAddr, U(value), 257);
        var setGood = p.Call(H.SetSocketOption, 0, SolSocket, SoLinger, U(linger), 8);
        var unknown = p.Call(H.GetSocketOption, 0, SolSocket, 99, U(value), U(length));
        var getGood = p.Call(H.GetSocketOption, 0, SolSocket, SoType, U(value), U(length));
        var getLinger = p.Call(H.GetSocketOption, 0, SolSocket, SoLinger, U(linger + 0x10), U(lingerLength));
        var lingerBytes = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(lingerBytes, 1);
        BinaryPrimitives.WriteInt32LittleEndian(lingerBytes.AsSpan(4), 7);
        using var m = Create(p, Data(value, UInt32(0xAAAA_AAAA)), Data(length, UInt32(4)), Data(linger, lingerBytes), Data(lingerLength, UInt32(64)));

        await m.RunToExit();

        Assert.Equal(EFault, m.Result(getBadLength));
        Assert.Equal(EFault, m.Result(getStraddlingLength));
        Assert.Equal(EFault, m.Result(getBadValue));
        Assert.Equal(EFault, m.Result(setBadValue));
        Assert.Equal(EInval, m.Result(setShort));
        Assert.Equal(EInval, m.Result(setLong));
        Assert.Equal(0, m.Result(setGood));
        Assert.Equal(-SocketErrno.ENOPROTOOPT, m.Result(unknown));
        Assert.Equal(0, m.Result(getGood));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(m.ReadMemory(value, 4)));
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(m.ReadMemory(length, 4)));
        Assert.Equal(0, m.Result(getLinger));
        Assert.Equal(lingerBytes, m.ReadMemory(linger + 0x10, 8));
        Assert.Equal(8u, BinaryPrimitives.ReadUInt32LittleEndian(m.ReadMemory(lingerLength, 4)));
    }

    [Fact]
    public async Task Receive_into_guest_memory_marks_exactly_the_written_pages_dirty()
    {
        // Spans four pages, starting and ending mid-page; the pages on either side must stay clean.
        const ulong buffer = Buffers + 0xF00;
        const int count = 10_000;
        var p = new SocketProgram();
        var received = p.Call(H.Receive, 1, U(buffer), count, 0);
        using var m = Create(p);
        using var client = await m.Connection();
        var payload = Enumerable.Range(0, count).Select(i => (byte)(i * 7)).ToArray();
        await client.GetStream().WriteAsync(payload);
        await m.WaitUntil(1, s => s.ReceiveQueue.Count == count, "the client's bytes are queued");
        m.Machine.Memory.DirtyLog.CollectAndClear();

        await m.RunToExit();

        Assert.Equal(count, m.Result(received));
        Assert.Equal(payload, m.ReadMemory(buffer, count));
        var dirty = m.Machine.Memory.DirtyLog.CollectAndClear();
        var first = (int)((buffer - RamBase) / GuestMemory.PageSize);
        var last = (int)((buffer + count - 1 - RamBase) / GuestMemory.PageSize);
        Assert.Equal(3, last - first);
        for (var page = first; page <= last; page++)
        {
            Assert.True(dirty.Contains(page), $"page {page} was written by recv but is not dirty");
        }

        Assert.False(dirty.Contains(first - 1));
        Assert.False(dirty.Contains(last + 1));
    }

    [Fact]
    public async Task Receive_with_MSG_DONTWAIT_on_a_blocking_socket_is_EAGAIN()
    {
        var p = new SocketProgram();
        var dontWait = p.Call(H.Receive, 1, U(Buffers), 16, MsgDontWait);
        var nonBlocking = p.Call(H.SetBlocking, 1, 0);
        var plain = p.Call(H.Receive, 1, U(Buffers), 16, 0);
        using var m = Create(p);
        using var client = await m.Connection();

        await m.RunToExit();

        Assert.Equal(EAgain, m.Result(dontWait));
        Assert.Equal(0, m.Result(nonBlocking));
        Assert.Equal(EAgain, m.Result(plain));
    }

    [Fact]
    public async Task A_guest_blocked_in_accept_can_be_paused_and_resumed_then_completes_when_a_client_connects()
    {
        var p = new SocketProgram();
        var accepted = p.Call(H.Accept, 0, U(Structures), U(Structures + 0x40), 0);
        var ecall = p.LastEcall;
        using var m = Create(p, Data(Structures + 0x40, UInt32(16)));
        var (listener, endpoint) = m.Listen(blocking: true);
        var machine = m.Machine;
        machine.Start();
        // The guest's only sign of blocking is pc parked on the ecall; no host event marks it.
        Assert.True(SpinWait.SpinUntil(() => machine.Pc == ecall, WaitLimit), "the guest never reached accept");

        await machine.PauseAsync().WaitAsync(WaitLimit);
        Assert.Equal(MachineRunState.Paused, machine.State);
        Assert.Equal(ecall, machine.Pc);
        Assert.Equal((ulong)H.Accept, machine.GetRegister(A7));
        Assert.Equal(1, m.Sockets.Count);

        machine.Resume();
        using var client = await ConnectClient(endpoint);
        await m.Completion();

        Assert.Equal(1, m.Result(accepted));
        Assert.Equal(SockaddrIn(IPAddress.Loopback, ((IPEndPoint)client.Client.LocalEndPoint!).Port), m.ReadMemory(Structures, 16));
        lock (m.Sockets.SyncRoot)
        {
            Assert.Empty(m.Sockets.Find(listener)!.ConnectionQueue);
            Assert.Equal(SocketStatus.Connected, m.Sockets.Find(1)!.Status);
        }
    }

    [Fact]
    public async Task A_connection_that_arrives_while_the_guest_is_paused_is_accepted_after_resume()
    {
        var p = new SocketProgram();
        var accepted = p.Call(H.Accept, 0, 0, 0, 0);
        var ecall = p.LastEcall;
        using var m = Create(p);
        var (listener, endpoint) = m.Listen(blocking: true);
        var machine = m.Machine;
        machine.Start();
        Assert.True(SpinWait.SpinUntil(() => machine.Pc == ecall, WaitLimit), "the guest never reached accept");
        await machine.PauseAsync().WaitAsync(WaitLimit);

        using var client = await ConnectClient(endpoint);
        await m.WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "the connection is queued");
        // The wake-up the arrival sent must not run a paused guest.
        Assert.Equal(MachineRunState.Paused, machine.State);
        Assert.Equal(ecall, machine.Pc);

        machine.Resume();
        await m.Completion();
        Assert.Equal(1, m.Result(accepted));
    }
}
