namespace Migration.Core.Sockets;

/// <summary>
/// The sanity pass over a socket table read from a checkpoint or a migration stream, which is untrusted input:
/// MessagePack guarantees only the shape, so anything the stack's own calls could never produce is refused here,
/// before a single socket is applied, with one line that names the socket and the field.
/// </summary>
internal static class SocketTableValidator
{
    /// <summary>The bounds <c>SO_SNDBUF</c>/<c>SO_RCVBUF</c> clamp to; the plain backend would throw on a negative size.</summary>
    private const int MinBufferSize = SocketOptions.MinBufferSize;
    private const int MaxBufferSize = SocketOptions.MaxBufferSize;

    /// <summary>Linux's MAX_ERRNO: a larger "error" would reach the guest as a positive, successful-looking result.</summary>
    private const int MaxErrno = 4095;

    /// <summary>No IP datagram carries more.</summary>
    private const int MaxDatagramPayload = 65535;

    public static void Validate(IReadOnlyList<VirtualSocket?> sockets, int maxSockets, int maxQueueCapacity)
    {
        if (sockets.Count > maxSockets)
        {
            throw new SocketTableException(null, "Count", $"is {sockets.Count}, more than the stack's {maxSockets} sockets");
        }

        var ids = new HashSet<int>();
        for (var i = 0; i < sockets.Count; i++)
        {
            var socket = sockets[i] ?? throw new SocketTableException(null, $"[{i}]", "is null");
            if (socket.Id < 0 || socket.Id >= maxSockets)
            {
                throw new SocketTableException(socket.Id, "Id", $"is outside 0..{maxSockets - 1}");
            }

            if (!ids.Add(socket.Id))
            {
                throw new SocketTableException(socket.Id, "Id", "appears twice");
            }

            Check(socket, socket.Id, "", pending: false, maxQueueCapacity);
        }
    }

    /// <param name="path">Prefix of field names for a pending connection inside a listener's queue.</param>
    /// <param name="pending">The record is an entry of a connection queue, not a socket with a handle.</param>
    private static void Check(VirtualSocket socket, int id, string path, bool pending, int maxQueueCapacity)
    {
        SocketTableException Fail(string field, string problem) => new(id, path + field, problem);

        if (socket.Version != VirtualSocket.FormatVersion)
        {
            throw Fail("Version", $"is {socket.Version}; this build reads version {VirtualSocket.FormatVersion}");
        }

        if (!Enum.IsDefined(socket.Type))
        {
            throw Fail("Type", $"{(int)socket.Type} is not a socket type");
        }

        if (!Enum.IsDefined(socket.Protocol))
        {
            throw Fail("Protocol", $"{(int)socket.Protocol} is not a protocol");
        }

        if (!Enum.IsDefined(socket.Family))
        {
            throw Fail("Family", $"{(int)socket.Family} is not an address family");
        }

        if (socket.Connection is { } frozen)
        {
            CheckConnection(socket, frozen, Fail);
        }

        if (socket.RelayConnection is { } relayed)
        {
            CheckRelayConnection(socket, relayed, Fail);
        }

        if (!Enum.IsDefined(socket.Status) || socket.Status == SocketStatus.Terminated)
        {
            // Terminated records leave the table at close, so a captured one cannot be a real socket.
            throw Fail("Status", $"{(int)socket.Status} is not the status of an open socket");
        }

        var expected = socket.Type == VirtualSocketType.Stream ? VirtualSocketProtocol.Tcp : VirtualSocketProtocol.Udp;
        if (socket.Protocol != expected)
        {
            throw Fail("Protocol", $"{socket.Protocol} does not go with type {socket.Type}");
        }

        CheckOptions(socket.Options, Fail);
        if (socket.LocalAddress is { } local && local.Family != socket.Family)
        {
            throw Fail("LocalAddress", $"is {local.Family} on an {socket.Family} socket");
        }

        if (socket.RemoteAddress is { } remote && remote.Family != socket.Family)
        {
            throw Fail("RemoteAddress", $"is {remote.Family} on an {socket.Family} socket");
        }

        if (socket.PendingError is < 0 or > MaxErrno)
        {
            throw Fail("PendingError", $"{socket.PendingError} is not an errno");
        }

        CheckQueue(socket.SendQueue, "SendQueue", maxQueueCapacity, Fail);
        CheckQueue(socket.ReceiveQueue, "ReceiveQueue", maxQueueCapacity, Fail);
        CheckStatus(socket, Fail);
        CheckDatagrams(socket, Fail);
        if (socket.Backlog is < 0 or > VirtualSocket.MaxConnectionQueue
            || (socket.Status == SocketStatus.Listening && socket.Backlog == 0))
        {
            throw Fail("Backlog", $"{socket.Backlog} is outside 1..{VirtualSocket.MaxConnectionQueue}");
        }

        if (socket.ConnectionQueue is not { } connections)
        {
            throw Fail("ConnectionQueue", "is missing");
        }

        if (connections.Count > 0 && pending)
        {
            throw Fail("ConnectionQueue", $"holds {connections.Count} connections in a connection that is itself pending");
        }

        if (connections.Count > VirtualSocket.MaxConnectionQueue)
        {
            throw Fail("ConnectionQueue", $"holds {connections.Count} connections, more than {VirtualSocket.MaxConnectionQueue}");
        }

        if (connections.Count > 0 && socket.Status != SocketStatus.Listening)
        {
            throw Fail("ConnectionQueue", $"holds {connections.Count} connections on a socket that is {socket.Status}, not listening");
        }

        for (var i = 0; i < connections.Count; i++)
        {
            var connection = connections[i];
            if (connection is null)
            {
                throw Fail($"ConnectionQueue[{i}]", "is null");
            }

            if (connection.Type != VirtualSocketType.Stream)
            {
                throw Fail($"ConnectionQueue[{i}].Type", $"{(int)connection.Type} is not a stream");
            }

            Check(connection, id, $"{path}ConnectionQueue[{i}].", pending: true, maxQueueCapacity);
        }
    }

    private static void CheckRelayConnection(VirtualSocket socket, RelayConnectionState relayed, Func<string, string, SocketTableException> fail)
    {
        if (relayed.Version != RelayConnectionState.FormatVersion)
        {
            throw fail("RelayConnection.Version", $"is {relayed.Version}; this build reads version {RelayConnectionState.FormatVersion}");
        }

        if (socket.Connection is not null)
        {
            throw fail("RelayConnection", "is set together with Connection; a connection is carried by one backend");
        }

        if (socket.Type != VirtualSocketType.Stream
            || socket.Status is not (SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving or SocketStatus.Shutdown))
        {
            throw fail("RelayConnection", $"is set on a socket that is {socket.Type} and {socket.Status}, not an established stream");
        }

        if (relayed.Stream == 0)
        {
            throw fail("RelayConnection.Stream", "is 0, which no relay stream has");
        }

        if (relayed.Delivered < 0 || relayed.Acknowledged < 0)
        {
            throw fail("RelayConnection", $"counters {relayed.Delivered}/{relayed.Acknowledged} are negative");
        }
    }

    private static void CheckConnection(VirtualSocket socket, TcpConnectionState connection, Func<string, string, SocketTableException> fail)
    {
        if (connection.Version != TcpConnectionState.FormatVersion)
        {
            throw fail("Connection.Version", $"is {connection.Version}; this build reads version {TcpConnectionState.FormatVersion}");
        }

        if (socket.Type != VirtualSocketType.Stream
            || socket.Status is not (SocketStatus.Connected or SocketStatus.Sending or SocketStatus.Receiving or SocketStatus.Shutdown))
        {
            throw fail("Connection", $"is set on a socket that is {socket.Type} and {socket.Status}, not an established stream");
        }

        if (!System.Net.IPEndPoint.TryParse(connection.Local ?? "", out var local) || local.Port == 0)
        {
            throw fail("Connection.Local", $"'{connection.Local}' is not an address and port");
        }

        if (!System.Net.IPEndPoint.TryParse(connection.Remote ?? "", out var remote) || remote.Port == 0 || remote.AddressFamily != local.AddressFamily)
        {
            throw fail("Connection.Remote", $"'{connection.Remote}' is not an address and port of the local address's family");
        }

        if (connection.SendQueue is null || connection.SendQueue.Length > TcpConnectionState.MaxQueueBytes)
        {
            throw fail("Connection.SendQueue", $"is missing or over {TcpConnectionState.MaxQueueBytes} bytes");
        }

        if (connection.ReceiveQueue is null || connection.ReceiveQueue.Length > TcpConnectionState.MaxQueueBytes)
        {
            throw fail("Connection.ReceiveQueue", $"is missing or over {TcpConnectionState.MaxQueueBytes} bytes");
        }

        if (connection.UnsentBytes < 0 || connection.UnsentBytes > connection.SendQueue.Length)
        {
            throw fail("Connection.UnsentBytes", $"{connection.UnsentBytes} is outside 0..{connection.SendQueue.Length}");
        }

        if (connection.Window is null || connection.Window.Length is not (0 or 5))
        {
            throw fail("Connection.Window", "must hold 0 or 5 values");
        }

        if (connection.MaxSegmentSize is < 0 or > 65535 || connection.SendWindowScale is < -1 or > 14 || connection.ReceiveWindowScale is < -1 or > 14)
        {
            throw fail("Connection", $"MSS {connection.MaxSegmentSize} or window scales {connection.SendWindowScale}/{connection.ReceiveWindowScale} are out of range");
        }
    }

    private static void CheckOptions(SocketOptions? options, Func<string, string, SocketTableException> fail)
    {
        if (options is null)
        {
            throw fail("Options", "are missing");
        }

        if (options.SendBufferSize is < MinBufferSize or > MaxBufferSize)
        {
            throw fail("Options.SendBufferSize", $"{options.SendBufferSize} is outside {MinBufferSize}..{MaxBufferSize}");
        }

        if (options.ReceiveBufferSize is < MinBufferSize or > MaxBufferSize)
        {
            throw fail("Options.ReceiveBufferSize", $"{options.ReceiveBufferSize} is outside {MinBufferSize}..{MaxBufferSize}");
        }

        if (options.LingerSeconds < 0)
        {
            throw fail("Options.LingerSeconds", $"{options.LingerSeconds} is negative");
        }
    }

    private static void CheckQueue(ByteQueue? queue, string field, int maxCapacity, Func<string, string, SocketTableException> fail)
    {
        if (queue is null)
        {
            throw fail(field, "is missing");
        }

        if (queue.Capacity < 1 || queue.Capacity > maxCapacity)
        {
            throw fail(field, $"capacity {queue.Capacity} is outside 1..{maxCapacity}");
        }

        if (queue.Count > queue.Capacity)
        {
            throw fail(field, $"holds {queue.Count} bytes, more than its capacity {queue.Capacity}");
        }
    }

    /// <summary>The states the stack's calls can reach for each kind of socket; restore decides by status, so it must be one of them.</summary>
    private static void CheckStatus(VirtualSocket socket, Func<string, string, SocketTableException> fail)
    {
        if (socket.Type == VirtualSocketType.Datagram)
        {
            if (socket.Status is not (SocketStatus.Unconnected or SocketStatus.Bound))
            {
                throw fail("Status", $"{socket.Status} is not a state of a datagram socket");
            }

            if ((socket.Status == SocketStatus.Bound) != (socket.LocalAddress is not null))
            {
                throw fail("LocalAddress", socket.LocalAddress is null ? "is missing on a bound socket" : "is set on an unbound socket");
            }

            return;
        }

        if (socket.Status is SocketStatus.Bound or SocketStatus.Listening && socket.LocalAddress is null)
        {
            throw fail("LocalAddress", $"is missing on a {socket.Status.ToString().ToLowerInvariant()} socket");
        }
    }

    private static void CheckDatagrams(VirtualSocket socket, Func<string, string, SocketTableException> fail)
    {
        if (socket.DatagramQueue is not { } datagrams)
        {
            throw fail("DatagramQueue", "is missing");
        }

        if (datagrams.Count == 0)
        {
            return;
        }

        if (socket.Type != VirtualSocketType.Datagram)
        {
            throw fail("DatagramQueue", $"holds {datagrams.Count} datagrams on a stream socket");
        }

        if (datagrams.Count > VirtualSocket.MaxDatagramQueue)
        {
            throw fail("DatagramQueue", $"holds {datagrams.Count} datagrams, more than {VirtualSocket.MaxDatagramQueue}");
        }

        for (var i = 0; i < datagrams.Count; i++)
        {
            if (datagrams[i] is not { From: not null, Payload: { } payload })
            {
                throw fail($"DatagramQueue[{i}]", "lacks its sender or payload");
            }

            if (payload.Length > MaxDatagramPayload)
            {
                throw fail($"DatagramQueue[{i}].Payload", $"is {payload.Length} bytes, more than {MaxDatagramPayload}");
            }
        }
    }
}
