using System.Net.Sockets;
using System.Text;
using Migration.Core.Sockets;
using static Migration.Networking.Tests.StackHarness;

namespace Migration.Networking.Tests;

/// <summary>Half-closed connections in both directions, and how shutdowns end in Disconnected.</summary>
public class ShutdownTests
{
    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public async Task A_peer_that_shuts_its_sending_side_leaves_a_half_closed_connection()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint);
        using (client)
        {
            var stream = client.GetStream();
            await stream.WriteAsync(Ascii("request"));
            client.Client.Shutdown(SocketShutdown.Send);

            await h.WaitUntil(connection, s => s.PeerClosed, "the peer's FIN arrives");
            // End of stream from the peer alone does not disconnect: the guest may still answer.
            Assert.Equal(SocketStatus.Receiving, h.Status(connection));
            Assert.Equal(Ascii("request"), await h.ReceiveExactly(connection, 7));
            Assert.Equal(SocketStatus.Connected, h.Status(connection));
            var buffer = new byte[8];
            AssertOk(h.Stack.Receive(connection, buffer, peek: false), 0);
            AssertOk(h.Stack.Receive(connection, buffer, peek: false), 0);
            Assert.Equal(SocketEvents.Readable | SocketEvents.Writable, h.Poll(connection));

            AssertOk(h.Stack.Send(connection, Ascii("response")), 8);
            Assert.Equal(Ascii("response"), await ReadExactly(stream, 8));

            // Now the guest closes its side too: both directions are closed.
            AssertOk(h.Stack.Shutdown(connection, read: false, write: true));
            Assert.Equal(0, await ReadOnce(stream, buffer));
            await h.WaitUntil(connection, s => s.Status == SocketStatus.Disconnected, "the socket is disconnected");
            Assert.Equal(SocketEvents.Readable | SocketEvents.HangUp, h.Poll(connection));
        }
    }

    [Fact]
    public async Task Send_after_shutdown_of_the_write_side_is_EPIPE_and_queued_output_still_goes_first()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint);
        using (client)
        {
            var payload = Pattern(200_000, 4);
            var sent = 0;
            while (sent < payload.Length)
            {
                var result = h.Stack.Send(connection, payload.AsSpan(sent));
                if (result.Value == -SocketErrno.EAGAIN)
                {
                    await h.WaitUntil(connection, s => !s.SendQueue.IsFull, "the send queue has room");
                    continue;
                }

                Assert.True(result.Value > 0);
                sent += (int)result.Value;
            }

            AssertOk(h.Stack.Shutdown(connection, read: false, write: true));
            AssertErrno(SocketErrno.EPIPE, h.Stack.Send(connection, [1]));
            AssertErrno(SocketErrno.EPIPE, h.Stack.Send(connection, []));

            // The FIN follows the queued bytes, not the shutdown call.
            var stream = client.GetStream();
            Assert.Equal(payload, await ReadExactly(stream, payload.Length));
            Assert.Equal(0, await ReadOnce(stream, new byte[1]));
        }
    }

    [Fact]
    public async Task Shutdown_of_the_read_side_gives_end_of_stream_and_discards_later_input()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint);
        using (client)
        {
            var stream = client.GetStream();
            await stream.WriteAsync(Ascii("dropped"));
            await h.WaitUntil(connection, s => s.ReceiveQueue.Count == 7, "the bytes are queued");

            AssertOk(h.Stack.Shutdown(connection, read: true, write: false));
            Assert.Equal(SocketStatus.Shutdown, h.Status(connection));
            Assert.True(h.Read(connection, s => s.ReceiveQueue.IsEmpty));
            AssertOk(h.Stack.Receive(connection, new byte[8], peek: false), 0);

            // The write side still works.
            AssertOk(h.Stack.Send(connection, Ascii("still")), 5);
            Assert.Equal(Ascii("still"), await ReadExactly(stream, 5));
        }
    }

    [Fact]
    public async Task After_shutdown_of_both_sides_the_peer_closing_disconnects_the_socket()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint);
        using (client)
        {
            AssertOk(h.Stack.Shutdown(connection, read: true, write: true));
            Assert.Equal(SocketStatus.Shutdown, h.Status(connection));
            var stream = client.GetStream();
            Assert.Equal(0, await ReadOnce(stream, new byte[1]));

            // Input after SHUT_RD is discarded (OnReceived), but the backend must keep reading to see the FIN behind it.
            await stream.WriteAsync(Ascii("ignored"));
            client.Client.Shutdown(SocketShutdown.Send);
            await h.WaitUntil(connection, s => s.Status == SocketStatus.Disconnected, "the socket is disconnected");
            Assert.True(h.Read(connection, s => s.ReceiveQueue.IsEmpty));
            AssertOk(h.Stack.Receive(connection, new byte[8], peek: false), 0);
        }
    }

    [Fact]
    public async Task A_shut_socket_whose_peer_closed_disconnects_once_its_queued_output_has_gone()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint);
        using (client)
        {
            // TcpClient refuses GetStream once its socket is shut down.
            var stream = client.GetStream();
            client.Client.Shutdown(SocketShutdown.Send);
            await h.WaitUntil(connection, s => s.PeerClosed, "the peer's FIN arrives");

            // The client does not read yet, so output piles up in the send queue.
            var payload = Pattern(8 << 20, 5);
            var sent = 0;
            var full = false;
            while (!full)
            {
                h.Atomically(() =>
                {
                    var result = h.Stack.Send(connection, payload.AsSpan(sent, Math.Min(100_000, payload.Length - sent)));
                    if (result.Value == -SocketErrno.EAGAIN)
                    {
                        // Shut down while the queue is still full, so the disconnect can only come from draining it.
                        AssertOk(h.Stack.Shutdown(connection, read: false, write: true));
                        Assert.Equal(SocketStatus.Shutdown, h.Status(connection));
                        full = true;
                        return;
                    }

                    Assert.True(result.Value > 0, $"send() returned {result.Value}");
                    sent += (int)result.Value;
                });
            }

            Assert.Equal(payload[..sent], await ReadExactly(stream, sent));
            Assert.Equal(0, await ReadOnce(stream, new byte[1]));
            await h.WaitUntil(connection, s => s.Status == SocketStatus.Disconnected, "the socket is disconnected");
        }
    }

    [Fact]
    public void Shutdown_with_no_connection_is_ENOTCONN()
    {
        using var h = new StackHarness();
        var (listener, _) = h.Listen();
        AssertErrno(SocketErrno.ENOTCONN, h.Stack.Shutdown(listener, read: true, write: true));
        Assert.Equal(SocketStatus.Listening, h.Status(listener));
    }
}
