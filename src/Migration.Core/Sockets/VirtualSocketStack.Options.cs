namespace Migration.Core.Sockets;

/// <summary>Options, names and readiness.</summary>
public sealed partial class VirtualSocketStack
{
    public SocketCallResult GetName(int id, bool peer, out GuestEndpoint? endpoint)
    {
        endpoint = null;
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            endpoint = peer ? socket.RemoteAddress : socket.LocalAddress ?? Unspecified(socket.Family);
            return endpoint is null ? SocketCallResult.Error(SocketErrno.ENOTCONN) : SocketCallResult.Ok();
        }
    }

    /// <summary>Reads an option as Linux reports it; see <see cref="SocketOptionNames"/>.</summary>
    public SocketCallResult GetOption(int id, int level, int name, out int value, out int second)
    {
        value = 0;
        second = 0;
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            var o = socket.Options;
            switch ((level, name))
            {
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoReuseAddr): value = o.ReuseAddress ? 1 : 0; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoType): value = (int)socket.Type; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoError):
                    value = TakeError(socket);
                    socket.Events = socket.ComputeEvents();
                    break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoSndBuf): value = o.SendBufferSize; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoRcvBuf): value = o.ReceiveBufferSize; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoKeepAlive): value = o.KeepAlive ? 1 : 0; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoLinger):
                    value = o.LingerEnabled ? 1 : 0;
                    second = o.LingerSeconds;
                    break;
                case (SocketOptionNames.IpProtoTcp, SocketOptionNames.TcpNoDelay): value = o.NoDelay ? 1 : 0; break;
                default: return SocketCallResult.Error(SocketErrno.ENOPROTOOPT);
            }

            return SocketCallResult.Ok();
        }
    }

    public SocketCallResult SetOption(int id, int level, int name, int value, int second)
    {
        lock (SyncRoot)
        {
            if (!_sockets.TryGetValue(id, out var socket))
            {
                return SocketCallResult.Error(SocketErrno.EBADF);
            }

            var o = socket.Options;
            switch ((level, name))
            {
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoReuseAddr): o.ReuseAddress = value != 0; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoKeepAlive): o.KeepAlive = value != 0; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoSndBuf): o.SendBufferSize = Math.Clamp(value, SocketOptions.MinBufferSize, SocketOptions.MaxBufferSize); break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoRcvBuf): o.ReceiveBufferSize = Math.Clamp(value, SocketOptions.MinBufferSize, SocketOptions.MaxBufferSize); break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoLinger):
                    o.LingerEnabled = value != 0;
                    o.LingerSeconds = Math.Max(0, second);
                    break;
                case (SocketOptionNames.IpProtoTcp, SocketOptionNames.TcpNoDelay): o.NoDelay = value != 0; break;
                case (SocketOptionNames.SolSocket, SocketOptionNames.SoType or SocketOptionNames.SoError): return SocketCallResult.Error(SocketErrno.ENOPROTOOPT);
                default: return SocketCallResult.Error(SocketErrno.ENOPROTOOPT);
            }

            _network.ApplyOptions(socket);
            return SocketCallResult.Ok();
        }
    }

    /// <summary>The events of each handle (Invalid for an unknown one), masked as poll reports them: errors and hang-ups always.</summary>
    public int Poll(ReadOnlySpan<int> ids, ReadOnlySpan<SocketEvents> interest, Span<SocketEvents> result)
    {
        var ready = 0;
        lock (SyncRoot)
        {
            for (var i = 0; i < ids.Length; i++)
            {
                if (ids[i] < 0)
                {
                    result[i] = SocketEvents.None;
                    continue;
                }

                var events = _sockets.TryGetValue(ids[i], out var socket) ? socket.ComputeEvents() : SocketEvents.Invalid;
                result[i] = events & (interest[i] | SocketEvents.Error | SocketEvents.HangUp | SocketEvents.Invalid);
                if (result[i] != SocketEvents.None)
                {
                    ready++;
                }
            }
        }

        return ready;
    }

    private static GuestEndpoint Unspecified(VirtualAddressFamily family) =>
        new(new byte[family == VirtualAddressFamily.IPv4 ? 4 : 16], 0);

    private int FreeHandle()
    {
        if (_sockets.Count >= MaxSockets)
        {
            return -1;
        }

        // Lowest free handle, as POSIX does for descriptors; handles are few, so a scan is cheap.
        var candidate = 0;
        foreach (var id in _sockets.Keys)
        {
            if (id != candidate)
            {
                break;
            }

            candidate++;
        }

        return candidate;
    }
}
