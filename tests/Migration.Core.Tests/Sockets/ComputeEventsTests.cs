using Migration.Core.Sockets;

namespace Migration.Core.Tests.Sockets;

public class ComputeEventsTests
{
    private const SocketEvents R = SocketEvents.Readable, W = SocketEvents.Writable, E = SocketEvents.Error, H = SocketEvents.HangUp;

    private static VirtualSocket Stream(SocketStatus status) =>
        new() { Type = VirtualSocketType.Stream, Protocol = VirtualSocketProtocol.Tcp, Status = status };

    [Theory]
    [InlineData(SocketStatus.Unconnected, SocketEvents.None)]
    [InlineData(SocketStatus.Bound, SocketEvents.None)]
    [InlineData(SocketStatus.Listening, SocketEvents.None)]
    [InlineData(SocketStatus.Connecting, SocketEvents.None)]
    [InlineData(SocketStatus.Connected, W)]
    [InlineData(SocketStatus.Sending, W)]
    [InlineData(SocketStatus.Receiving, W)]
    [InlineData(SocketStatus.Shutdown, W)]
    [InlineData(SocketStatus.Disconnected, H)]
    [InlineData(SocketStatus.Terminated, SocketEvents.Invalid)]
    public void An_idle_stream_socket_reports_by_status(SocketStatus status, SocketEvents expected) =>
        Assert.Equal(expected, Stream(status).ComputeEvents());

    [Theory]
    [InlineData(SocketStatus.Unconnected)]
    [InlineData(SocketStatus.Bound)]
    [InlineData(SocketStatus.Connected)]
    [InlineData(SocketStatus.Disconnected)]
    [InlineData(SocketStatus.Terminated)]
    public void A_datagram_socket_is_writable_and_readable_while_datagrams_wait(SocketStatus status)
    {
        var socket = new VirtualSocket { Type = VirtualSocketType.Datagram, Protocol = VirtualSocketProtocol.Udp, Status = status };
        if (status == SocketStatus.Terminated)
        {
            Assert.Equal(SocketEvents.Invalid, socket.ComputeEvents());
            return;
        }

        Assert.Equal(W, socket.ComputeEvents());
        socket.DatagramQueue.Add(new Datagram(new GuestEndpoint([127, 0, 0, 1], 9), [1]));
        Assert.Equal(R | W, socket.ComputeEvents());
    }

    [Fact]
    public void A_listener_is_readable_while_a_connection_waits()
    {
        var listener = Stream(SocketStatus.Listening);
        listener.ConnectionQueue.Add(Stream(SocketStatus.Connected));
        Assert.Equal(R, listener.ComputeEvents());
        listener.PendingError = SocketErrno.ECONNABORTED;
        Assert.Equal(R | E, listener.ComputeEvents());
    }

    [Fact]
    public void Queued_input_is_readable_and_a_full_send_queue_is_not_writable()
    {
        var socket = Stream(SocketStatus.Connected);
        socket.ReceiveQueue.Enqueue([1]);
        Assert.Equal(R | W, socket.ComputeEvents());

        socket.SendQueue = new ByteQueue(4);
        socket.SendQueue.Enqueue([1, 2, 3, 4]);
        socket.RefreshConnectedStatus();
        Assert.Equal(SocketStatus.Sending, socket.Status);
        Assert.Equal(R, socket.ComputeEvents());
        Assert.Equal(R, socket.Events);
    }

    [Fact]
    public void End_of_stream_reset_and_shutdowns_are_readable_so_a_reader_wakes()
    {
        var peerClosed = Stream(SocketStatus.Connected);
        peerClosed.PeerClosed = true;
        Assert.Equal(R | W, peerClosed.ComputeEvents());

        var reset = Stream(SocketStatus.Disconnected);
        reset.Reset = true;
        reset.PendingError = SocketErrno.ECONNRESET;
        Assert.Equal(R | E | H, reset.ComputeEvents());
        reset.PendingError = 0;
        Assert.Equal(R | H, reset.ComputeEvents());

        var writeShut = Stream(SocketStatus.Shutdown);
        writeShut.WriteShut = true;
        Assert.Equal(SocketEvents.None, writeShut.ComputeEvents());

        var readShut = Stream(SocketStatus.Shutdown);
        readShut.ReadShut = true;
        Assert.Equal(R | W, readShut.ComputeEvents());

        var bothClosed = Stream(SocketStatus.Disconnected);
        bothClosed.WriteShut = true;
        bothClosed.PeerClosed = true;
        Assert.Equal(R | H, bothClosed.ComputeEvents());
    }

    [Fact]
    public void A_failed_connect_reports_error_and_hang_up()
    {
        var socket = Stream(SocketStatus.Disconnected);
        socket.PendingError = SocketErrno.ECONNREFUSED;
        Assert.Equal(E | H, socket.ComputeEvents());
    }

    [Fact]
    public void A_terminated_socket_is_invalid_whatever_else_it_holds()
    {
        var socket = Stream(SocketStatus.Terminated);
        socket.PendingError = SocketErrno.ECONNRESET;
        socket.ReceiveQueue.Enqueue([1]);
        Assert.Equal(SocketEvents.Invalid, socket.ComputeEvents());
    }

    [Fact]
    public void RefreshConnectedStatus_follows_the_queues_and_leaves_other_states_alone()
    {
        var socket = Stream(SocketStatus.Connected);
        socket.ReceiveQueue.Enqueue([1]);
        socket.RefreshConnectedStatus();
        Assert.Equal(SocketStatus.Receiving, socket.Status);

        // Unsent output wins: it is what a migration must carry first.
        socket.SendQueue.Enqueue([2]);
        socket.RefreshConnectedStatus();
        Assert.Equal(SocketStatus.Sending, socket.Status);

        socket.SendQueue.Clear();
        socket.ReceiveQueue.Clear();
        socket.RefreshConnectedStatus();
        Assert.Equal(SocketStatus.Connected, socket.Status);

        var shut = Stream(SocketStatus.Shutdown);
        shut.SendQueue.Enqueue([1]);
        shut.RefreshConnectedStatus();
        Assert.Equal(SocketStatus.Shutdown, shut.Status);
        Assert.Equal(W, shut.Events);
    }
}
