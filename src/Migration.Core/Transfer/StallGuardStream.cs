namespace Migration.Core.Transfer;

/// <summary>
/// A view of a migration channel on which every read and every write must make progress within a limit. A peer that
/// dies closes or resets the connection, but one that hangs (or a link that drops everything) keeps it open: without
/// this, a write into full socket buffers or a read of a silent peer would wait forever. Disposing it leaves the inner
/// stream open.
/// </summary>
internal sealed class StallGuardStream(Stream inner, TimeSpan limit, string peer) : Stream
{
    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        try
        {
            return await inner.ReadAsync(buffer, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ChannelStalledException($"the {peer} sent no bytes for {limit.TotalSeconds:0.###} s with the connection open", e);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        try
        {
            await inner.WriteAsync(buffer, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ChannelStalledException($"the {peer} took no bytes for {limit.TotalSeconds:0.###} s with the connection open", e);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    // The migration engine only reads and writes asynchronously; a synchronous call could not be bounded.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("a stall-guarded channel is read asynchronously");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("a stall-guarded channel is written asynchronously");

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
