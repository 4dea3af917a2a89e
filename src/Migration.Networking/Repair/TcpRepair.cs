using System.Buffers.Binary;
using System.Net;
using Migration.Core.Sockets;

namespace Migration.Networking.Repair;

/// <summary>
/// Freezing and re-creating established TCP connections with Linux TCP repair, in the order CRIU's libsoccr uses and that
/// FACTS.md records as tested here. Freezing leaves the socket in repair mode, so closing it sends neither FIN nor RST.
/// </summary>
internal static class TcpRepair
{
    private const int TcpEstablished = 1;
    private const int TcpFinWait1 = 4;
    private const int TcpFinWait2 = 5;
    private const int TcpTimeWait = 6;
    private const int TcpCloseWait = 8;
    private const int TcpLastAck = 9;
    private const int TcpClosing = 11;

    private const int OptMss = 2;
    private const int OptWindow = 3;
    private const int OptSackPermitted = 4;
    private const int OptTimestamp = 8;

    private const int InfoOptionTimestamps = 1;
    private const int InfoOptionSack = 2;
    private const int InfoOptionWindowScale = 4;

    /// <summary>Offsets in struct tcp_info (linux/tcp.h).</summary>
    private const int InfoBytesAckedOffset = 120;

    private const int MaxChunk = 256 * 1024;

    /// <summary>Puts the socket in repair mode; its pending host operations fail from here on (EPERM/EPIPE), without moving a byte.</summary>
    public static void EnterRepair(int fd, string connection)
    {
        if (LinuxSockets.SetInt(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpRepair, 1) != 0)
        {
            throw TcpRepairException.FromErrno("entering repair mode", connection);
        }
    }

    /// <summary>Leaves repair mode on a socket that was frozen but is to carry on here (nothing was closed).</summary>
    public static void LeaveRepair(int fd, string connection)
    {
        if (LinuxSockets.SetInt(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpRepair, 0) != 0)
        {
            throw TcpRepairException.FromErrno("leaving repair mode", connection);
        }
    }

    /// <summary>Reads everything the connection is, from a socket already in repair mode.</summary>
    public static TcpFreezeResult Read(int fd, IPEndPoint local, IPEndPoint remote)
    {
        var connection = $"{local} <-> {remote}";
        Span<byte> info = stackalloc byte[232];
        var infoLength = LinuxSockets.GetBytes(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpInfo, info);
        if (infoLength < InfoBytesAckedOffset + 8)
        {
            throw TcpRepairException.FromErrno("reading tcp_info", connection);
        }

        var tcpState = info[0];
        if (tcpState is not (TcpEstablished or TcpFinWait1 or TcpFinWait2 or TcpCloseWait or TcpLastAck or TcpClosing or TcpTimeWait))
        {
            throw new TcpRepairException($"TCP repair of {connection}: the connection is in kernel state {tcpState}, not one that carries data");
        }

        var finSent = tcpState is TcpFinWait1 or TcpFinWait2 or TcpLastAck or TcpClosing or TcpTimeWait;
        var finReceived = tcpState is TcpCloseWait or TcpLastAck or TcpClosing or TcpTimeWait;
        var options = info[5];
        var state = new TcpConnectionState
        {
            Local = local.ToString(),
            Remote = remote.ToString(),
            SackPermitted = (options & InfoOptionSack) != 0,
            Timestamps = (options & InfoOptionTimestamps) != 0,
            SendWindowScale = (options & InfoOptionWindowScale) != 0 ? info[6] & 0xF : -1,
            ReceiveWindowScale = (options & InfoOptionWindowScale) != 0 ? info[6] >> 4 : -1,
            FinSent = finSent,
            FinReceived = finReceived,
        };
        var bytesAcked = (long)BinaryPrimitives.ReadUInt64LittleEndian(info[InfoBytesAckedOffset..]);

        Check(LinuxSockets.GetInt(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpMaxSeg, out var mss), "reading the MSS", connection);
        state.MaxSegmentSize = mss;
        if (state.Timestamps)
        {
            Check(LinuxSockets.GetInt(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpTimestamp, out var timestamp), "reading the timestamp", connection);
            state.Timestamp = (uint)timestamp;
        }

        Span<byte> window = stackalloc byte[20];
        if (LinuxSockets.GetBytes(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpRepairWindow, window) == 20)
        {
            var values = new uint[5];
            for (var i = 0; i < 5; i++)
            {
                values[i] = BinaryPrimitives.ReadUInt32LittleEndian(window[(i * 4)..]);
            }

            state.Window = values;
        }

        // Receive queue: its sequence is rcv_nxt, which counts the peer's FIN when it came.
        SelectQueue(fd, LinuxSockets.ReceiveQueue, connection);
        Check(LinuxSockets.GetInt(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpQueueSeq, out var receiveSequence), "reading the receive sequence", connection);
        Check(LinuxSockets.IoctlInt(fd, LinuxSockets.SiocInq, out var inq), "SIOCINQ", connection);
        state.ReceiveQueue = Peek(fd, inq, "the receive queue", connection);
        state.ReceiveSequence = (uint)receiveSequence - (finReceived ? 1u : 0u);

        // Send queue: write_seq counts this end's FIN once it was queued.
        SelectQueue(fd, LinuxSockets.SendQueue, connection);
        Check(LinuxSockets.GetInt(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpQueueSeq, out var sendSequence), "reading the send sequence", connection);
        Check(LinuxSockets.IoctlInt(fd, LinuxSockets.SiocOutq, out var outq), "SIOCOUTQ", connection);
        Check(LinuxSockets.IoctlInt(fd, LinuxSockets.SiocOutqNsd, out var notSent), "SIOCOUTQNSD", connection);
        var finInQueue = finSent && outq > 0 ? 1 : 0;
        var dataQueued = outq - finInQueue;
        state.SendQueue = Peek(fd, dataQueued, "the send queue", connection);
        state.UnsentBytes = Math.Clamp(notSent - (finSent && notSent > 0 ? 1 : 0), 0, state.SendQueue.Length);
        state.SendSequence = (uint)sendSequence - (finSent ? 1u : 0u);
        // The send queue stays selected: should anything still shut the socket down before it is closed, the FIN it
        // queues counts as sent in repair mode and never reaches the wire.

        // An acknowledged FIN counts in bytes_acked; it is not a byte the host wrote.
        var finAcked = finSent && finInQueue == 0 ? 1 : 0;
        return new TcpFreezeResult(state, bytesAcked - finAcked + dataQueued);
    }

    /// <summary>
    /// Re-creates the connection in repair mode: bound to its old address, connected without a handshake, queues and
    /// options restored. The returned descriptor is still in repair mode — the caller lifts any network lock, then
    /// calls <see cref="Release"/>. On failure the descriptor is closed (silently: it is in repair mode).
    /// </summary>
    /// <param name="freeBind">
    /// The local address may not be on this host yet (a service address arrives after its sockets exist): IP_FREEBIND lets
    /// the bind take it, IP_TRANSPARENT the connect's route lookup from it (CAP_NET_ADMIN, which repair needs anyway).
    /// </param>
    public static int Prepare(TcpConnectionState state, bool freeBind = false)
    {
        var local = IPEndPoint.Parse(state.Local);
        var remote = IPEndPoint.Parse(state.Remote);
        var connection = $"{local} <-> {remote}";
        var fd = LinuxSockets.Socket(LinuxSockets.Family(local), LinuxSockets.SockStream, 0);
        if (fd < 0)
        {
            throw TcpRepairException.FromErrno("creating a socket", connection);
        }

        try
        {
            EnterRepair(fd, connection);
            // Queues larger than the default buffers must fit back in; SO_*BUFFORCE needs the same privilege repair does.
            var largest = Math.Max(state.SendQueue.Length, state.ReceiveQueue.Length);
            if (largest > 0)
            {
                LinuxSockets.SetInt(fd, LinuxSockets.SolSocket, LinuxSockets.SoSndBufForce, Math.Max(largest * 2, 256 * 1024));
                LinuxSockets.SetInt(fd, LinuxSockets.SolSocket, LinuxSockets.SoRcvBufForce, Math.Max(largest * 2, 256 * 1024));
            }

            SelectQueue(fd, LinuxSockets.ReceiveQueue, connection);
            Check(LinuxSockets.SetInt(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpQueueSeq, (int)(state.ReceiveSequence - (uint)state.ReceiveQueue.Length)), "setting the receive sequence", connection);
            SelectQueue(fd, LinuxSockets.SendQueue, connection);
            Check(LinuxSockets.SetInt(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpQueueSeq, (int)(state.SendSequence - (uint)state.SendQueue.Length)), "setting the send sequence", connection);
            if (state.MaxSegmentSize > 0)
            {
                // Without it the connection restarts at a 524-byte MSS; above 32767 the kernel refuses it.
                Check(LinuxSockets.SetInt(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpMaxSeg, Math.Min(state.MaxSegmentSize, 32767)), "setting the MSS", connection);
            }

            if (freeBind)
            {
                Check(LinuxSockets.SetInt(fd, LinuxSockets.IpProtoIp, LinuxSockets.IpFreeBind, 1), "setting IP_FREEBIND", connection);
                Check(LinuxSockets.SetInt(fd, LinuxSockets.IpProtoIp, LinuxSockets.IpTransparent, 1), "setting IP_TRANSPARENT", connection);
            }

            Check(LinuxSockets.Bind(fd, local), $"binding {local}", connection);
            Check(LinuxSockets.Connect(fd, remote), $"connecting to {remote} (no SYN in repair mode)", connection);
            SetOptions(fd, state, connection);
            if (state.Timestamps)
            {
                Check(LinuxSockets.SetInt(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpTimestamp, (int)state.Timestamp), "setting the timestamp", connection);
            }

            SelectQueue(fd, LinuxSockets.ReceiveQueue, connection);
            Inject(fd, state.ReceiveQueue, "the receive queue", connection);
            SelectQueue(fd, LinuxSockets.SendQueue, connection);
            // Only what had been sent: bytes written in repair mode count as sent, and would wait for a retransmission timer.
            Inject(fd, state.SendQueue.AsSpan(0, state.SentBytes), "the send queue", connection);
            if (state.Window.Length == 5)
            {
                Span<byte> window = stackalloc byte[20];
                for (var i = 0; i < 5; i++)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(window[(i * 4)..], state.Window[i]);
                }

                Check(LinuxSockets.SetBytes(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpRepairWindow, window), "setting the window", connection);
            }

            SelectQueue(fd, LinuxSockets.NoQueue, connection);
            return fd;
        }
        catch
        {
            LinuxSockets.Close(fd);
            throw;
        }
    }

    /// <summary>Takes a prepared descriptor out of repair mode (the kernel sends a window probe); a FIN this end had sent is sent again.</summary>
    public static void Release(int fd, TcpConnectionState state)
    {
        var connection = $"{state.Local} <-> {state.Remote}";
        LeaveRepair(fd, connection);
        if (state.FinSent && state.UnsentBytes == 0)
        {
            Check(LinuxSockets.Shutdown(fd, LinuxSockets.ShutWr), "re-sending the FIN", connection);
        }
    }

    private static void SetOptions(int fd, TcpConnectionState state, string connection)
    {
        Span<byte> options = stackalloc byte[32];
        var count = 0;
        void Add(Span<byte> buffer, int code, uint value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[(count * 8)..], (uint)code);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[((count * 8) + 4)..], value);
            count++;
        }

        if (state.MaxSegmentSize > 0)
        {
            Add(options, OptMss, (uint)state.MaxSegmentSize);
        }

        if (state.SendWindowScale >= 0 && state.ReceiveWindowScale >= 0)
        {
            Add(options, OptWindow, (uint)state.SendWindowScale | ((uint)state.ReceiveWindowScale << 16));
        }

        if (state.SackPermitted)
        {
            Add(options, OptSackPermitted, 0);
        }

        if (state.Timestamps)
        {
            Add(options, OptTimestamp, 0);
        }

        if (count > 0)
        {
            Check(LinuxSockets.SetBytes(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpRepairOptions, options[..(count * 8)]), "setting the repair options", connection);
        }
    }

    private static void SelectQueue(int fd, int queue, string connection) =>
        Check(LinuxSockets.SetInt(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpRepairQueue, queue), "selecting a repair queue", connection);

    private static byte[] Peek(int fd, int length, string what, string connection)
    {
        if (length <= 0)
        {
            return [];
        }

        if (length > TcpConnectionState.MaxQueueBytes)
        {
            throw new TcpRepairException($"TCP repair of {connection}: {what} holds {length} bytes, over the bound of {TcpConnectionState.MaxQueueBytes}");
        }

        var buffer = new byte[length];
        var n = LinuxSockets.Receive(fd, buffer, LinuxSockets.MsgPeek | LinuxSockets.MsgDontWait);
        if (n < 0)
        {
            throw TcpRepairException.FromErrno($"reading {what}", connection);
        }

        if (n != length)
        {
            throw new TcpRepairException($"TCP repair of {connection}: {what} gave {n} of its {length} bytes");
        }

        return buffer;
    }

    /// <summary>Writes a queue back in chunks; the kernel builds one linear buffer per call in repair mode, so a refused chunk is split.</summary>
    private static void Inject(int fd, ReadOnlySpan<byte> data, string what, string connection)
    {
        var chunk = MaxChunk;
        while (!data.IsEmpty)
        {
            var n = LinuxSockets.Send(fd, data[..Math.Min(chunk, data.Length)], 0);
            if (n <= 0)
            {
                if (chunk > 1024)
                {
                    chunk /= 2;
                    continue;
                }

                throw TcpRepairException.FromErrno($"writing {what} back ({data.Length} bytes left)", connection);
            }

            data = data[(int)n..];
        }
    }

    private static void Check(int result, string step, string connection)
    {
        if (result != 0)
        {
            throw TcpRepairException.FromErrno(step, connection);
        }
    }
}
