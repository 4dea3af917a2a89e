using System.Buffers;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Migration.Networking.Relay;

/// <summary>
/// One authenticated connection between a host and the relay. Frames are queued without blocking (callers hold locks)
/// and a single writer sends them, many per system call; what is queued is bounded by the streams' windows. One reader
/// hands each frame to the owner's handler, in order.
/// </summary>
internal sealed class RelayLink : IAsyncDisposable
{
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(2);

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly Channel<byte[]> _outgoing = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _writer;

    public RelayLink(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
        _socket.NoDelay = true;
        Reader = new RelayFrameReader(new BufferedStream(stream, RelayProtocol.ChunkSize));
        _writer = WriteAsync();
    }

    public RelayFrameReader Reader { get; }

    public string Peer => _socket.RemoteEndPoint?.ToString() ?? "a closed link";

    /// <summary>Completes when the writer stops: the link is closed or failed.</summary>
    public Task Writer => _writer;

    /// <summary>Queues a frame; false when the link is closed (the frame is dropped, and the peer learns from the close).</summary>
    public bool Send(RelayFrameType type, uint stream, ReadOnlySpan<byte> payload = default) =>
        _outgoing.Writer.TryWrite(new RelayFrame(type, stream, payload.ToArray()).Encode());

    /// <summary>Reads frames until the link ends or the handler throws; the exception says why it ended, null for a clean close.</summary>
    public async Task<Exception?> ReadAllAsync(Action<RelayFrame> handle)
    {
        try
        {
            while (await Reader.ReadAsync(_stop.Token).ConfigureAwait(false) is { } frame)
            {
                handle(frame);
            }

            return null;
        }
        catch (Exception e) when (e is RelayProtocolException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return e;
        }
    }

    private async Task WriteAsync()
    {
        var batch = new ArrayBufferWriter<byte>(RelayProtocol.ChunkSize * 2);
        var reader = _outgoing.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (batch.WrittenCount < RelayProtocol.ChunkSize && reader.TryRead(out var frame))
                {
                    batch.Write(frame);
                }

                await _stream.WriteAsync(batch.WrittenMemory, _stop.Token).ConfigureAwait(false);
                batch.Clear();
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The reader sees the same failure and reports it; frames still queued die with the link.
        }
        finally
        {
            _outgoing.Writer.TryComplete();
        }
    }

    /// <summary>Lets queued frames go (briefly), then closes.</summary>
    public async ValueTask DisposeAsync()
    {
        _outgoing.Writer.TryComplete();
        await _writer.WaitAsync(DrainLimit).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>Closes at once, dropping queued frames.</summary>
    public void Abort()
    {
        _outgoing.Writer.TryComplete();
        _stop.Cancel();
        _socket.Dispose();
    }
}
