using System.Net;

namespace Migration.Core.Sockets;

/// <summary>What backends report about host endpoints. Each call takes the lock, updates the structure, and wakes waiting guest calls.</summary>
public sealed partial class VirtualSocketStack
{
    /// <summary>Room left in a listener's connection queue; a backend accepts from the host only while there is room.</summary>
    public int AcceptRoom(VirtualSocket listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        lock (SyncRoot)
        {
            return listener.Status == SocketStatus.Listening ? Math.Max(0, listener.Backlog - listener.ConnectionQueue.Count) : 0;
        }
    }

    /// <summary>A connection arrived on a listening socket's host endpoint; false when the listener is gone (the backend closes it).</summary>
    public bool OnAccepted(VirtualSocket listener, VirtualSocket connection, IPEndPoint peer)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(peer);
        lock (SyncRoot)
        {
            if (listener.Status != SocketStatus.Listening)
            {
                return false;
            }

            connection.Type = VirtualSocketType.Stream;
            connection.Protocol = VirtualSocketProtocol.Tcp;
            connection.Family = listener.Family;
            connection.Status = SocketStatus.Connected;
            // The guest sees its own port, on the concrete address the client reached when it bound the wildcard.
            connection.LocalAddress = listener.LocalAddress is { IsAny: true } any
                && connection.HostEndpoint is { } host && IPEndPoint.TryParse(host, out var reached)
                ? new GuestEndpoint(Normalize(reached, listener.Family).Address.GetAddressBytes(), any.Port)
                : listener.LocalAddress;
            connection.RemoteAddress = GuestEndpoint.From(Normalize(peer, listener.Family));
            connection.Id = -1;
            connection.Events = connection.ComputeEvents();
            listener.ConnectionQueue.Add(connection);
            listener.Events = listener.ComputeEvents();
        }

        Changed?.Invoke();
        return true;
    }

    public void OnConnected(VirtualSocket socket, IPEndPoint local)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(local);
        lock (SyncRoot)
        {
            if (socket.Status != SocketStatus.Connecting)
            {
                return;
            }

            socket.LocalAddress ??= GuestEndpoint.From(Normalize(local, socket.Family));
            socket.Status = SocketStatus.Connected;
            socket.RefreshConnectedStatus();
        }

        Changed?.Invoke();
    }

    public void OnConnectFailed(VirtualSocket socket, int errno)
    {
        ArgumentNullException.ThrowIfNull(socket);
        lock (SyncRoot)
        {
            if (socket.Status != SocketStatus.Connecting)
            {
                return;
            }

            socket.Status = SocketStatus.Disconnected;
            socket.PendingError = errno;
            socket.Events = socket.ComputeEvents();
        }

        Changed?.Invoke();
    }

    /// <summary>Free space in the receive queue: a backend reads from the host at most this much, which is the back-pressure.</summary>
    public int ReceiveRoom(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        lock (SyncRoot)
        {
            // A read-shut socket discards input (OnReceived), so the backend keeps reading: that is how it still sees the peer's FIN or reset.
            return socket.Status == SocketStatus.Terminated ? 0 : socket.ReadShut ? socket.ReceiveQueue.Capacity : socket.ReceiveQueue.Free;
        }
    }

    /// <summary>Bytes arrived from the peer; returns how many were queued (all of them when the backend respected <see cref="ReceiveRoom"/>).</summary>
    public int OnReceived(VirtualSocket socket, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(socket);
        int accepted;
        lock (SyncRoot)
        {
            if (socket.ReadShut)
            {
                // Linux discards data for a read-shut socket; so do we, deliberately.
                return data.Length;
            }

            accepted = socket.ReceiveQueue.Enqueue(data);
            socket.RefreshConnectedStatus();
        }

        Changed?.Invoke();
        return accepted;
    }

    public void OnPeerClosed(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        lock (SyncRoot)
        {
            socket.PeerClosed = true;
            DisconnectIfBothClosed(socket);
            socket.Events = socket.ComputeEvents();
        }

        Changed?.Invoke();
    }

    public void OnReset(VirtualSocket socket, int errno)
    {
        ArgumentNullException.ThrowIfNull(socket);
        lock (SyncRoot)
        {
            if (socket.Status == SocketStatus.Terminated)
            {
                return;
            }

            socket.Reset = true;
            socket.PendingError = errno;
            socket.SendQueue.Clear();
            socket.Status = SocketStatus.Disconnected;
            socket.Events = socket.ComputeEvents();
        }

        Changed?.Invoke();
    }

    /// <summary>Copies the oldest unsent bytes for the backend to send; <paramref name="finish"/> is true when nothing is left and the guest shut its write side.</summary>
    public int PeekForTransmit(VirtualSocket socket, Span<byte> buffer, out bool finish)
    {
        ArgumentNullException.ThrowIfNull(socket);
        lock (SyncRoot)
        {
            var n = socket.SendQueue.Peek(buffer);
            finish = n == 0 && socket.WriteShut;
            return n;
        }
    }

    public void OnTransmitted(VirtualSocket socket, int count)
    {
        ArgumentNullException.ThrowIfNull(socket);
        lock (SyncRoot)
        {
            if (socket.SendQueue.Count < count)
            {
                return;
            }

            socket.SendQueue.Discard(count);
            DisconnectIfBothClosed(socket);
            socket.RefreshConnectedStatus();
        }

        Changed?.Invoke();
    }

    /// <summary>A datagram arrived; false when the queue is full (UDP may drop, and says so by the return).</summary>
    public bool OnDatagram(VirtualSocket socket, Datagram datagram)
    {
        ArgumentNullException.ThrowIfNull(socket);
        lock (SyncRoot)
        {
            if (socket.DatagramQueue.Count >= VirtualSocket.MaxDatagramQueue || socket.Status == SocketStatus.Terminated)
            {
                return false;
            }

            socket.DatagramQueue.Add(datagram);
            socket.Events = socket.ComputeEvents();
        }

        Changed?.Invoke();
        return true;
    }

    /// <summary>Room for more datagrams; a backend stops receiving while it is zero.</summary>
    public bool HasDatagramRoom(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        lock (SyncRoot)
        {
            return socket.DatagramQueue.Count < VirtualSocket.MaxDatagramQueue;
        }
    }

    /// <summary>Host sockets are dual-stack; an IPv4 guest must see IPv4 peers.</summary>
    internal static IPEndPoint Normalize(IPEndPoint endpoint, VirtualAddressFamily family) =>
        family == VirtualAddressFamily.IPv4 && endpoint.Address.IsIPv4MappedToIPv6
            ? new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port)
            : endpoint;
}
