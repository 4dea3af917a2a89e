using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;
using Migration.Networking.Plain;

namespace Migration.Networking.Tests;

/// <summary>
/// A socket stack backed by real host sockets on 127.0.0.1, with the helpers the tests share. The test plays the guest:
/// it calls the stack directly and inspects the socket structures under the stack's lock.
/// </summary>
internal sealed class StackHarness : IDisposable
{
    /// <summary>Generous for loopback I/O on a loaded machine; a passing test never gets near it.</summary>
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);

    public StackHarness(PortMap? ports = null, int maxSockets = VirtualSocketStack.DefaultMaxSockets)
        : this(new PlainHostNetwork(), ports, maxSockets)
    {
    }

    public StackHarness(IHostNetwork network, PortMap? ports = null, int maxSockets = VirtualSocketStack.DefaultMaxSockets)
    {
        Stack = new VirtualSocketStack(network, ports ?? new PortMap(), maxSockets);
    }

    public VirtualSocketStack Stack { get; }

    public static GuestEndpoint Loopback(int port) => new([127, 0, 0, 1], port);

    public static GuestEndpoint Any(int port) => new([0, 0, 0, 0], port);

    public static CancellationTokenSource TimeoutSource() => new(WaitLimit);

    /// <summary>A port nothing listens on, held bound so no one else can take it while the test runs: connecting to it is refused.</summary>
    public static Socket ClosedPort(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    /// <summary>A port that was free a moment ago; only for configuration (port maps) that must name a port in advance.</summary>
    public static int FreePort()
    {
        using var socket = ClosedPort(out var port);
        return port;
    }

    public static byte[] Pattern(int length, int seed = 0)
    {
        var bytes = new byte[length];
        var state = (uint)(seed * 2654435761u) | 1;
        for (var i = 0; i < length; i++)
        {
            // xorshift: no period that could line up with queue or buffer sizes and hide a reordering.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            bytes[i] = (byte)state;
        }

        return bytes;
    }

    /// <summary>Reads a socket's fields consistently, under the lock the backend's loops take.</summary>
    public T Read<T>(int id, Func<VirtualSocket, T> read)
    {
        lock (Stack.SyncRoot)
        {
            var socket = Stack.Find(id) ?? throw new InvalidOperationException($"socket {id} does not exist");
            return read(socket);
        }
    }

    /// <summary>
    /// Runs calls with the stack's lock held, as one guest step: the backend reports host events under this lock, so
    /// none can slip between a call and the checks of the state it left (such as Connecting, or a full send queue).
    /// </summary>
    public void Atomically(Action calls)
    {
        lock (Stack.SyncRoot)
        {
            calls();
        }
    }

    public SocketStatus Status(int id) => Read(id, s => s.Status);

    public SocketEvents Poll(int id, SocketEvents interest = SocketEvents.Readable | SocketEvents.Writable)
    {
        Span<SocketEvents> result = stackalloc SocketEvents[1];
        Stack.Poll([id], [interest], result);
        return result[0];
    }

    /// <summary>
    /// Waits until a condition on the sockets holds, re-checking it each time host I/O changes a socket — the same
    /// signal a blocked guest call waits for. Fails with <paramref name="what"/> after <see cref="WaitLimit"/>.
    /// </summary>
    public async Task WaitUntil(Func<bool> condition, string what)
    {
        var current = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged() => Volatile.Read(ref current).TrySetResult();
        Stack.Changed += OnChanged;
        try
        {
            using var timeout = TimeoutSource();
            while (true)
            {
                // A fresh waiter before the check: a change after it is signalled, a change before it is seen by the check.
                var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref current, waiter);
                if (Check(condition))
                {
                    return;
                }

                try
                {
                    await waiter.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    if (Check(condition))
                    {
                        return;
                    }

                    throw new TimeoutException($"timed out after {WaitLimit.TotalSeconds} s waiting until {what}; sockets: {Describe()}");
                }
            }
        }
        finally
        {
            Stack.Changed -= OnChanged;
        }
    }

    private bool Check(Func<bool> condition)
    {
        lock (Stack.SyncRoot)
        {
            return condition();
        }
    }

    /// <summary>The state of every socket, for a failure message.</summary>
    public string Describe()
    {
        lock (Stack.SyncRoot)
        {
            return string.Join("; ", Stack.Snapshot().Select(s =>
                $"{s.Id}: {s.Status} send {s.SendQueue.Count} receive {s.ReceiveQueue.Count} pending {s.ConnectionQueue.Count} " +
                $"error {s.PendingError} readShut {s.ReadShut} writeShut {s.WriteShut} peerClosed {s.PeerClosed} reset {s.Reset}"));
        }
    }

    public Task WaitUntil(int id, Func<VirtualSocket, bool> condition, string what) =>
        WaitUntil(() => Stack.Find(id) is { } s && condition(s), $"socket {id}: {what}");

    public int NewSocket(VirtualSocketType type = VirtualSocketType.Stream, bool blocking = false, VirtualAddressFamily family = VirtualAddressFamily.IPv4)
    {
        var result = Stack.Socket(family, type, null, blocking);
        Assert.False(result.Blocked);
        Assert.True(result.Value >= 0, $"socket() returned {result.Value}");
        return (int)result.Value;
    }

    /// <summary>A listening socket on 127.0.0.1 with a host-chosen port; returns its handle and where clients connect.</summary>
    public (int Listener, IPEndPoint Endpoint) Listen(bool blocking = false, int backlog = 16)
    {
        var listener = NewSocket(blocking: blocking);
        AssertOk(Stack.Bind(listener, Loopback(0)));
        AssertOk(Stack.Listen(listener, backlog));
        var port = Read(listener, s => s.LocalAddress!.Port);
        Assert.NotEqual(0, port);
        return (listener, new IPEndPoint(IPAddress.Loopback, port));
    }

    /// <summary>A real client connected to a guest listener, and the guest's accepted handle for it.</summary>
    public async Task<(int Connection, TcpClient Client)> Connect(int listener, IPEndPoint endpoint, bool nonBlocking = true)
    {
        var client = new TcpClient(AddressFamily.InterNetwork);
        try
        {
            using var timeout = TimeoutSource();
            await client.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
            await WaitUntil(listener, s => s.ConnectionQueue.Count > 0, "a connection is queued").ConfigureAwait(false);
            var accepted = Stack.Accept(listener, nonBlocking, out _);
            Assert.False(accepted.Blocked);
            Assert.True(accepted.Value >= 0, $"accept() returned {accepted.Value}");
            return ((int)accepted.Value, client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Receives exactly <paramref name="count"/> bytes as a non-blocking guest would: read what is queued, wait for more.</summary>
    public async Task<byte[]> ReceiveExactly(int id, int count)
    {
        var received = new byte[count];
        var offset = 0;
        while (offset < count)
        {
            var result = Stack.Receive(id, received.AsSpan(offset), peek: false);
            if (result.Value == -SocketErrno.EAGAIN || result.Blocked)
            {
                await WaitUntil(id, s => !s.ReceiveQueue.IsEmpty || s.PeerClosed || s.Reset, "input arrives").ConfigureAwait(false);
                continue;
            }

            Assert.True(result.Value > 0, $"receive() returned {result.Value} after {offset} of {count} bytes");
            offset += (int)result.Value;
        }

        return received;
    }

    public static void AssertOk(SocketCallResult result, long expected = 0)
    {
        Assert.False(result.Blocked, "the call blocked");
        Assert.Equal(expected, result.Value);
    }

    public static void AssertErrno(int errno, SocketCallResult result)
    {
        Assert.False(result.Blocked, $"the call blocked instead of failing with errno {errno}");
        Assert.Equal(-errno, result.Value);
    }

    public static async Task<byte[]> ReadExactly(NetworkStream stream, int count)
    {
        var buffer = new byte[count];
        using var timeout = TimeoutSource();
        await stream.ReadExactlyAsync(buffer, timeout.Token).ConfigureAwait(false);
        return buffer;
    }

    /// <summary>The next read on the client: 0 at end of stream.</summary>
    public static async Task<int> ReadOnce(NetworkStream stream, byte[] buffer)
    {
        using var timeout = TimeoutSource();
        return await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
    }

    public void Dispose() => Stack.Dispose();
}
