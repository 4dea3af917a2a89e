using System.Net.Sockets;
using Migration.Core.Sockets;
using static Migration.Networking.Tests.StackHarness;

namespace Migration.Networking.Tests;

/// <summary>Bulk transfers through the bounded queues: nothing is lost, reordered or buffered beyond capacity.</summary>
public class BackPressureTests
{
    private const int MiB = 1 << 20;

    [Fact]
    public async Task A_fast_client_is_held_back_by_a_full_receive_queue_and_every_byte_arrives_in_order()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint);
        using (client)
        {
            var capacity = h.Read(connection, s => s.ReceiveQueue.Capacity);
            Assert.Equal(256 * 1024, capacity);

            // Every change the backend makes is observed, so a queue that ever held more than its capacity is caught.
            var maximum = 0;
            void OnChanged()
            {
                lock (h.Stack.SyncRoot)
                {
                    maximum = Math.Max(maximum, h.Stack.Find(connection)?.ReceiveQueue.Count ?? 0);
                }
            }

            h.Stack.Changed += OnChanged;
            var payload = Pattern(4 * MiB, 21);
            using var timeout = TimeoutSource();
            var writer = Task.Run(async () =>
            {
                await client.GetStream().WriteAsync(payload, timeout.Token);
                client.Client.Shutdown(SocketShutdown.Send);
            });

            // The guest reads nothing until the queue is full: from then on only TCP flow control holds the client.
            await h.WaitUntil(connection, s => s.ReceiveQueue.IsFull, "the receive queue fills");

            var received = new byte[payload.Length + 1];
            var total = 0;
            while (true)
            {
                // An odd read size, so reads and the backend's 64 KiB host reads never line up.
                var result = h.Stack.Receive(connection, received.AsSpan(total, Math.Min(100_003, received.Length - total)), peek: false);
                if (result.Value == -SocketErrno.EAGAIN)
                {
                    await h.WaitUntil(connection, s => !s.ReceiveQueue.IsEmpty || s.PeerClosed, "more input or end of stream");
                    continue;
                }

                Assert.True(result.Value >= 0, $"receive() returned {result.Value}");
                if (result.Value == 0)
                {
                    break;
                }

                total += (int)result.Value;
            }

            await writer.WaitAsync(WaitLimit);
            h.Stack.Changed -= OnChanged;

            Assert.Equal(payload.Length, total);
            Assert.True(payload.AsSpan().SequenceEqual(received.AsSpan(0, total)), "the bytes differ from what the client sent");
            lock (h.Stack.SyncRoot)
            {
                Assert.Equal(capacity, maximum);
            }
        }
    }

    [Fact]
    public async Task A_large_guest_send_respects_partial_enqueues_and_arrives_byte_identical()
    {
        using var h = new StackHarness();
        var (listener, endpoint) = h.Listen();
        var (connection, client) = await h.Connect(listener, endpoint, nonBlocking: true);
        using (client)
        {
            // Room for far more than the host's buffers hold, so the send queue must fill while the client does not read.
            var payload = Pattern(8 * MiB, 22);
            var sent = 0;
            var partial = 0;
            var full = false;
            while (!full)
            {
                h.Atomically(() =>
                {
                    var chunk = payload.AsSpan(sent, Math.Min(300_007, payload.Length - sent));
                    var result = h.Stack.Send(connection, chunk);
                    if (result.Value == -SocketErrno.EAGAIN)
                    {
                        // The state that refused the send, before the pump can move more bytes to the host.
                        Assert.Equal(SocketStatus.Sending, h.Status(connection));
                        Assert.True(h.Read(connection, s => s.SendQueue.IsFull));
                        Assert.Equal(SocketEvents.None, h.Poll(connection, SocketEvents.Writable));
                        AssertOk(h.Stack.SetBlocking(connection, true));
                        Assert.Equal(SocketCallResult.Block, h.Stack.Send(connection, chunk));
                        AssertOk(h.Stack.SetBlocking(connection, false));
                        full = true;
                        return;
                    }

                    Assert.True(result.Value > 0, $"send() returned {result.Value}");
                    partial += result.Value < chunk.Length ? 1 : 0;
                    sent += (int)result.Value;
                    Assert.True(sent < payload.Length, "the host absorbed 8 MiB without back-pressure");
                });
            }

            Assert.True(partial > 0, "a send into a filling queue takes part of the chunk");

            var target = Math.Max(sent, MiB);
            var stream = client.GetStream();
            using var timeout = TimeoutSource();
            var reader = Task.Run(async () =>
            {
                var buffer = new byte[payload.Length];
                var total = 0;
                int n;
                while ((n = await stream.ReadAsync(buffer.AsMemory(total), timeout.Token)) > 0)
                {
                    total += n;
                }

                return buffer[..total];
            });

            while (sent < target)
            {
                var result = h.Stack.Send(connection, payload.AsSpan(sent, Math.Min(65_537, target - sent)));
                if (result.Value == -SocketErrno.EAGAIN)
                {
                    await h.WaitUntil(connection, s => !s.SendQueue.IsFull, "the send queue has room");
                    continue;
                }

                Assert.True(result.Value > 0, $"send() returned {result.Value}");
                sent += (int)result.Value;
            }

            await h.WaitUntil(connection, s => s.SendQueue.IsEmpty && s.Status == SocketStatus.Connected, "the send queue drains");
            Assert.Equal(SocketEvents.Writable, h.Poll(connection, SocketEvents.Writable));
            AssertOk(h.Stack.Shutdown(connection, read: false, write: true));

            var arrived = await reader.WaitAsync(WaitLimit);
            Assert.Equal(target, arrived.Length);
            Assert.True(payload.AsSpan(0, target).SequenceEqual(arrived), "the bytes differ from what the guest sent");
        }
    }
}
