using System.Buffers.Binary;
using Migration.Core.Memory;
using Migration.Core.Sockets;
using Migration.Machine.RiscV.Devices;

namespace Migration.Machine.RiscV.Hypercalls;

/// <summary>
/// The socket hypercalls (16–32): decode guest arguments, check every pointer and length against RAM
/// (a bad one is -EFAULT, never a host access), call the <see cref="VirtualSocketStack"/>, and turn
/// "would block" on a blocking socket into a restartable wait.
/// </summary>
internal sealed class SocketHypercalls(GuestMemory memory, GuestClock clock, VirtualSocketStack stack)
{
    /// <summary>One call moves at most this much, which bounds the host-side work of a single ecall.</summary>
    public const int MaxTransfer = 1 << 20;

    public const int MaxPollEntries = 4096;

    private const int SockNonBlock = 0x800;
    private const int SockTypeMask = 0xF;
    private const int MsgPeek = 0x2;
    private const int MsgDontWait = 0x40;
    private const int PollEntrySize = 8;

    public HypercallOutcome Dispatch(HypercallNumber number, ReadOnlySpan<ulong> a)
    {
        var handle = (int)a[0];
        switch (number)
        {
            case HypercallNumber.Socket:
                return Result(stack.Socket((VirtualAddressFamily)(int)a[0], (VirtualSocketType)((int)a[1] & SockTypeMask),
                    a[2] == 0 ? null : (VirtualSocketProtocol)(int)a[2], ((int)a[1] & SockNonBlock) == 0));
            case HypercallNumber.Bind:
                return WithAddress(a[1], a[2], endpoint => stack.Bind(handle, endpoint));
            case HypercallNumber.Listen:
                return Result(stack.Listen(handle, (int)a[1]));
            case HypercallNumber.Accept:
                return Accept(handle, a[1], a[2], (int)a[3]);
            case HypercallNumber.Connect:
                return WithAddress(a[1], a[2], endpoint => stack.Connect(handle, endpoint));
            case HypercallNumber.Send:
                return Send(handle, a[1], a[2], (int)a[3], null);
            case HypercallNumber.Receive:
                return Receive(handle, a[1], a[2], (int)a[3], 0, 0);
            case HypercallNumber.SendTo:
                if (a[4] == 0)
                {
                    return Send(handle, a[1], a[2], (int)a[3], null);
                }

                var error = GuestSocketAddress.Read(memory, a[4], a[5], out var to);
                return error != 0 ? HypercallOutcome.Error(error) : Send(handle, a[1], a[2], (int)a[3], to);
            case HypercallNumber.ReceiveFrom:
                return Receive(handle, a[1], a[2], (int)a[3], a[4], a[5]);
            case HypercallNumber.Shutdown:
                return (int)a[1] is < 0 or > 2
                    ? HypercallOutcome.Error(SocketErrno.EINVAL)
                    : Result(stack.Shutdown(handle, read: a[1] is 0 or 2, write: a[1] is 1 or 2));
            case HypercallNumber.Close:
                return Result(stack.Close(handle));
            case HypercallNumber.SetSocketOption:
                return SetOption(handle, (int)a[1], (int)a[2], a[3], a[4]);
            case HypercallNumber.GetSocketOption:
                return GetOption(handle, (int)a[1], (int)a[2], a[3], a[4]);
            case HypercallNumber.GetSocketName or HypercallNumber.GetPeerName:
                {
                    var result = stack.GetName(handle, number == HypercallNumber.GetPeerName, out var endpoint);
                    if (result.Value < 0)
                    {
                        return Result(result);
                    }

                    var writeError = a[1] == 0 ? SocketErrno.EFAULT : GuestSocketAddress.Write(memory, a[1], a[2], endpoint);
                    return writeError != 0 ? HypercallOutcome.Error(writeError) : HypercallOutcome.Complete(0);
                }

            case HypercallNumber.PollUntil:
                return Poll(a[0], a[1], (long)a[2]);
            case HypercallNumber.SetBlocking:
                return Result(stack.SetBlocking(handle, a[1] != 0));
            default:
                return HypercallOutcome.Error(Errno.ENOSYS);
        }
    }

    private static HypercallOutcome Result(SocketCallResult result) =>
        result.Blocked ? HypercallOutcome.Block(long.MaxValue) : HypercallOutcome.Complete(result.Value);

    private HypercallOutcome WithAddress(ulong address, ulong length, Func<GuestEndpoint, SocketCallResult> call)
    {
        var error = GuestSocketAddress.Read(memory, address, length, out var endpoint);
        return error != 0 ? HypercallOutcome.Error(error) : Result(call(endpoint!));
    }

    private HypercallOutcome Accept(int handle, ulong address, ulong lengthAddress, int flags)
    {
        // Check the output buffers before taking a connection off the queue, so a bad pointer loses nothing.
        if (!AddressBufferValid(address, lengthAddress))
        {
            return HypercallOutcome.Error(SocketErrno.EFAULT);
        }

        var result = stack.Accept(handle, (flags & SockNonBlock) != 0, out var peer);
        if (result.Blocked || result.Value < 0)
        {
            return Result(result);
        }

        var error = GuestSocketAddress.Write(memory, address, lengthAddress, peer);
        return error != 0 ? HypercallOutcome.Error(error) : HypercallOutcome.Complete(result.Value);
    }

    private HypercallOutcome Send(int handle, ulong buffer, ulong length, int flags, GuestEndpoint? to)
    {
        var count = Math.Min(length, MaxTransfer);
        if (!memory.TryGetSpan(buffer, count, out var data))
        {
            return HypercallOutcome.Error(SocketErrno.EFAULT);
        }

        var result = to is null ? stack.Send(handle, data) : stack.SendTo(handle, data, to);
        return NonBlockingIfAsked(result, flags);
    }

    private HypercallOutcome Receive(int handle, ulong buffer, ulong length, int flags, ulong fromAddress, ulong fromLengthAddress)
    {
        var count = Math.Min(length, MaxTransfer);
        if (!memory.TryGetSpan(buffer, count, out var destination))
        {
            return HypercallOutcome.Error(SocketErrno.EFAULT);
        }

        if (!AddressBufferValid(fromAddress, fromLengthAddress))
        {
            return HypercallOutcome.Error(SocketErrno.EFAULT);
        }

        var result = stack.ReceiveFrom(handle, destination, (flags & MsgPeek) != 0, out var from);
        if (!result.Blocked && result.Value > 0)
        {
            // The host wrote guest memory: those pages are dirty like any guest store.
            memory.DirtyLog.MarkRange(buffer - memory.Base, (ulong)result.Value);
            var error = GuestSocketAddress.Write(memory, fromAddress, fromLengthAddress, from);
            if (error != 0)
            {
                return HypercallOutcome.Error(error);
            }
        }

        return NonBlockingIfAsked(result, flags);
    }

    /// <summary>An optional (address, length pointer) output pair is either absent or entirely inside RAM.</summary>
    private bool AddressBufferValid(ulong address, ulong lengthAddress)
    {
        if (address == 0)
        {
            return true;
        }

        if (!memory.TryGetSpan(lengthAddress, 4, out var lengthBytes))
        {
            return false;
        }

        var capacity = Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes), (uint)GuestSocketAddress.IPv6Size);
        return memory.Contains(address, capacity);
    }

    private static HypercallOutcome NonBlockingIfAsked(SocketCallResult result, int flags) =>
        result.Blocked && (flags & MsgDontWait) != 0 ? HypercallOutcome.Error(SocketErrno.EAGAIN) : Result(result);

    private HypercallOutcome SetOption(int handle, int level, int name, ulong value, ulong length)
    {
        if (length < 4 || length > 256)
        {
            return HypercallOutcome.Error(SocketErrno.EINVAL);
        }

        if (!memory.TryGetSpan(value, length, out var bytes))
        {
            return HypercallOutcome.Error(SocketErrno.EFAULT);
        }

        var first = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        var second = length >= 8 ? BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]) : 0;
        return Result(stack.SetOption(handle, level, name, first, second));
    }

    private HypercallOutcome GetOption(int handle, int level, int name, ulong value, ulong lengthAddress)
    {
        if (!memory.TryGetSpan(lengthAddress, 4, out var lengthBytes))
        {
            return HypercallOutcome.Error(SocketErrno.EFAULT);
        }

        var capacity = BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        var size = level == SocketOptionNames.SolSocket && name == SocketOptionNames.SoLinger ? 8 : 4;
        var stored = (int)Math.Min(capacity, (uint)size);
        // Checked before reading: SO_ERROR is cleared by the read and must not be lost to a bad pointer.
        if (!memory.Contains(value, (ulong)stored))
        {
            return HypercallOutcome.Error(SocketErrno.EFAULT);
        }

        var result = stack.GetOption(handle, level, name, out var first, out var second);
        if (result.Value < 0)
        {
            return Result(result);
        }

        Span<byte> encoded = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(encoded, first);
        BinaryPrimitives.WriteInt32LittleEndian(encoded[4..], second);

        memory.Write(value, encoded[..stored]);
        BinaryPrimitives.WriteUInt32LittleEndian(encoded, (uint)stored);
        memory.Write(lengthAddress, encoded[..4]);
        return HypercallOutcome.Complete(0);
    }

    private HypercallOutcome Poll(ulong entries, ulong count, long deadline)
    {
        if (count > MaxPollEntries)
        {
            return HypercallOutcome.Error(SocketErrno.EINVAL);
        }

        var n = (int)count;
        if (!memory.TryGetSpan(entries, count * PollEntrySize, out var table))
        {
            return HypercallOutcome.Error(SocketErrno.EFAULT);
        }

        var ids = n <= 256 ? stackalloc int[n] : new int[n];
        var interest = n <= 256 ? stackalloc SocketEvents[n] : new SocketEvents[n];
        var revents = n <= 256 ? stackalloc SocketEvents[n] : new SocketEvents[n];
        for (var i = 0; i < n; i++)
        {
            ids[i] = BinaryPrimitives.ReadInt32LittleEndian(table[(i * PollEntrySize)..]);
            interest[i] = (SocketEvents)BinaryPrimitives.ReadInt16LittleEndian(table[((i * PollEntrySize) + 4)..]);
        }

        var ready = stack.Poll(ids, interest, revents);
        if (ready == 0 && deadline != 0 && (deadline < 0 || clock.NowNanoseconds < deadline))
        {
            return HypercallOutcome.Block(deadline < 0 ? long.MaxValue : deadline);
        }

        for (var i = 0; i < n; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(table[((i * PollEntrySize) + 6)..], (short)revents[i]);
        }

        if (n > 0)
        {
            memory.DirtyLog.MarkRange(entries - memory.Base, count * PollEntrySize);
        }

        return HypercallOutcome.Complete(ready);
    }
}
