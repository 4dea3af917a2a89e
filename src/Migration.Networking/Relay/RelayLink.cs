using System.Buffers;
using System.Net.Sockets;

namespace Migration.Networking.Relay;

/// <summary>
/// One connection between a host and the relay, read and written by two threads of its own (see
/// <see cref="SynchronousStream"/> for why not the thread pool). Frames are queued without blocking (callers hold
/// locks) and the writer sends them, many per system call; what is queued is bounded by the streams' windows. The
/// reader hands each frame to its owner's handler, in order.
/// </summary>
internal sealed class RelayLink : IDisposable
{
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(2);

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly Queue<byte[]> _outgoing = new();
    private readonly Thread _writer;
    private readonly TaskCompletionSource _written = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _closing;

    public RelayLink(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new SynchronousStream(new NetworkStream(socket, ownsSocket: false));
        Reader = new RelayFrameReader(new BufferedStream(_stream, RelayProtocol.ChunkSize));
        Peer = socket.RemoteEndPoint?.ToString() ?? "?";
        _writer = new Thread(Write) { IsBackground = true, Name = $"relay link writer {Peer}" };
        _writer.Start();
    }

    public string Peer { get; }

    /// <summary>The bare connection, for the handshake before any frame: nothing may be read ahead of it.</summary>
    public Stream Handshake => _stream;

    public RelayFrameReader Reader { get; }

    /// <summary>Deadline for each read and write of the handshake; zero afterwards (the link then waits as long as it lasts).</summary>
    public TimeSpan Timeout
    {
        set
        {
            _socket.ReceiveTimeout = (int)value.TotalMilliseconds;
            _socket.SendTimeout = (int)value.TotalMilliseconds;
        }
    }

    /// <summary>Queues a frame; false when the link is closing (the frame is dropped, and the peer learns from the close).</summary>
    public bool Send(RelayFrameType type, uint stream, ReadOnlySpan<byte> payload = default)
    {
        var frame = new RelayFrame(type, stream, payload.ToArray()).Encode();
        lock (_outgoing)
        {
            if (_closing)
            {
                return false;
            }

            _outgoing.Enqueue(frame);
            if (_outgoing.Count == 1)
            {
                Monitor.Pulse(_outgoing);
            }
        }

        return true;
    }

    /// <summary>The next frame, waiting on this thread; null at a clean end between frames.</summary>
    public RelayFrame? ReadFrame() => Reader.ReadAsync(CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Reads frames on a thread of the link's own until the link ends; the task gives why (null for a clean close).</summary>
    public Task<Exception?> StartReading(Action<RelayFrame> handle)
    {
        var ended = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = new Thread(() => ended.TrySetResult(ReadAll(handle))) { IsBackground = true, Name = $"relay link reader {Peer}" };
        reader.Start();
        return ended.Task;
    }

    /// <summary>Reads frames on the calling thread until the link ends or the handler throws a protocol error; returns why (null for a clean close).</summary>
    public Exception? ReadAll(Action<RelayFrame> handle)
    {
        try
        {
            // Bounded by the link: each pass reads a frame or ends.
            while (ReadFrame() is { } frame)
            {
                handle(frame);
            }

            return null;
        }
        catch (Exception e) when (e is RelayProtocolException or IOException or SocketException or ObjectDisposedException)
        {
            return e;
        }
    }

    private void Write()
    {
        var batch = new ArrayBufferWriter<byte>(RelayProtocol.ChunkSize * 2);
        try
        {
            while (true)
            {
                lock (_outgoing)
                {
                    while (_outgoing.Count == 0 && !_closing)
                    {
                        Monitor.Wait(_outgoing);
                    }

                    if (_outgoing.Count == 0)
                    {
                        return;
                    }

                    while (batch.WrittenCount < RelayProtocol.ChunkSize && _outgoing.TryDequeue(out var frame))
                    {
                        batch.Write(frame);
                    }
                }

                _stream.Write(batch.WrittenSpan);
                batch.Clear();
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The reader sees the same failure and reports it; frames still queued die with the link.
        }
        finally
        {
            lock (_outgoing)
            {
                _closing = true;
                _outgoing.Clear();
            }

            _written.TrySetResult();
        }
    }

    /// <summary>Lets the frames already queued go (for at most two seconds), then closes.</summary>
    public void Dispose()
    {
        lock (_outgoing)
        {
            _closing = true;
            Monitor.Pulse(_outgoing);
        }

        _written.Task.Wait(DrainLimit);
        Abort();
    }

    /// <summary>Closes at once, dropping queued frames; the reader's next read fails.</summary>
    public void Abort()
    {
        lock (_outgoing)
        {
            _closing = true;
            Monitor.Pulse(_outgoing);
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }

        _socket.Dispose();
    }
}
