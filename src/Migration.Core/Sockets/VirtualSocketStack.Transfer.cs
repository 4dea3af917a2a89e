using System.Net;

namespace Migration.Core.Sockets;

/// <summary>Moving bytes: stream send and receive, datagrams.</summary>
public sealed partial class VirtualSocketStack
{
    public SocketCallResult Send(int id, ReadOnlySpan<byte> data)
    {
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (socket.Type == VirtualSocketType.Datagram)
            {
                return socket.RemoteAddress is { } to ? SendDatagramLocked(socket, to, data) : SocketCallResult.Error(SocketErrno.EDESTADDRREQ);
            }

            if (socket.Reset)
            {
                return SocketCallResult.Error(socket.PendingError == SocketErrno.ECONNRESET ? TakeError(socket) : SocketErrno.EPIPE);
            }

            if (socket.WriteShut)
            {
                return SocketCallResult.Error(SocketErrno.EPIPE);
            }

            if (socket.Status is not (SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving or SocketStatus.Shutdown))
            {
                if (socket.Status == SocketStatus.Connecting)
                {
                    // As on Linux: a send before the handshake completes waits, or says "try again".
                    return socket.Blocking ? SocketCallResult.Block : SocketCallResult.Error(SocketErrno.EAGAIN);
                }

                return SocketCallResult.Error(SocketErrno.ENOTCONN);
            }

            if (data.Length == 0)
            {
                return SocketCallResult.Ok();
            }

            var accepted = socket.SendQueue.Enqueue(data);
            if (accepted == 0)
            {
                return socket.Blocking ? SocketCallResult.Block : SocketCallResult.Error(SocketErrno.EAGAIN);
            }

            socket.RefreshConnectedStatus();
            _network.Transmit(socket);
            return SocketCallResult.Ok(accepted);
        }
    }

    public SocketCallResult Receive(int id, Span<byte> destination, bool peek)
    {
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (socket.Type == VirtualSocketType.Datagram)
            {
                return ReceiveDatagramLocked(socket, destination, peek, out _);
            }

            if (!socket.ReceiveQueue.IsEmpty && destination.Length > 0)
            {
                var n = peek ? socket.ReceiveQueue.Peek(destination) : socket.ReceiveQueue.Dequeue(destination);
                socket.RefreshConnectedStatus();
                if (!peek)
                {
                    _network.ResumeReceive(socket);
                }

                return SocketCallResult.Ok(n);
            }

            if (socket.Reset)
            {
                return socket.PendingError != 0 ? SocketCallResult.Error(TakeError(socket)) : SocketCallResult.Ok(0);
            }

            if (socket.PeerClosed || socket.ReadShut || destination.Length == 0)
            {
                return SocketCallResult.Ok(0);
            }

            if (socket.Status is SocketStatus.Unconnected or SocketStatus.Bound or SocketStatus.Listening or SocketStatus.Disconnected)
            {
                return SocketCallResult.Error(SocketErrno.ENOTCONN);
            }

            return socket.Blocking ? SocketCallResult.Block : SocketCallResult.Error(SocketErrno.EAGAIN);
        }
    }

    public SocketCallResult SendTo(int id, ReadOnlySpan<byte> data, GuestEndpoint? to)
    {
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (socket.Type != VirtualSocketType.Datagram || to is null)
            {
                return to is null ? SocketCallResult.Error(SocketErrno.EDESTADDRREQ) : SocketCallResult.Error(SocketErrno.EISCONN);
            }

            return SendDatagramLocked(socket, to, data);
        }
    }

    public SocketCallResult ReceiveFrom(int id, Span<byte> destination, bool peek, out GuestEndpoint? from)
    {
        from = null;
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            if (socket.Type != VirtualSocketType.Datagram)
            {
                from = socket.RemoteAddress;
                return Receive(id, destination, peek);
            }

            return ReceiveDatagramLocked(socket, destination, peek, out from);
        }
    }

    private SocketCallResult SendDatagramLocked(VirtualSocket socket, GuestEndpoint to, ReadOnlySpan<byte> data)
    {
        if (to.Family != socket.Family)
        {
            return SocketCallResult.Error(SocketErrno.EAFNOSUPPORT);
        }

        if (socket.LocalAddress is null)
        {
            // An unbound UDP socket gets an ephemeral port on its first send, as on Linux — on the wildcard
            // address, not the loopback default for explicit binds, so it can reach any destination.
            var any = new GuestEndpoint(new byte[socket.Family == VirtualAddressFamily.IPv4 ? 4 : 16], 0);
            var bindError = _network.Bind(socket, any.ToIPEndPoint());
            if (bindError != 0)
            {
                return SocketCallResult.Error(bindError);
            }

            socket.LocalAddress = socket.HostEndpoint is { } h && IPEndPoint.TryParse(h, out var actual) ? new GuestEndpoint(any.Address, actual.Port) : any;
            socket.Status = SocketStatus.Bound;
        }

        var error = _network.SendDatagram(socket, to.ToIPEndPoint(), data);
        return error == 0 ? SocketCallResult.Ok(data.Length) : SocketCallResult.Error(error);
    }

    private SocketCallResult ReceiveDatagramLocked(VirtualSocket socket, Span<byte> destination, bool peek, out GuestEndpoint? from)
    {
        from = null;
        if (socket.DatagramQueue.Count == 0)
        {
            return socket.Blocking ? SocketCallResult.Block : SocketCallResult.Error(SocketErrno.EAGAIN);
        }

        var datagram = socket.DatagramQueue[0];
        if (!peek)
        {
            socket.DatagramQueue.RemoveAt(0);
            _network.ResumeReceive(socket);
        }

        from = datagram.From;
        var n = Math.Min(destination.Length, datagram.Payload.Length);
        datagram.Payload.AsSpan(0, n).CopyTo(destination);
        socket.Events = socket.ComputeEvents();
        return SocketCallResult.Ok(n);
    }
}
