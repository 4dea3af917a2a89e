using System.Buffers;

namespace Migration.Core.Pages;

/// <summary>
/// One encoded batch in a pooled buffer. Dispose it once written out; the buffer goes back to the pool.
/// </summary>
public sealed class PageBatch : IDisposable
{
    private byte[]? _buffer;

    internal PageBatch(byte[] buffer, int length, PageBatchStats stats)
    {
        _buffer = buffer;
        Length = length;
        Stats = stats;
    }

    public int Length { get; }

    public PageBatchStats Stats { get; }

    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => Buffer.AsMemory(0, Length);

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(PageBatch));

    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(Buffer, 0, Length);
    }

    public ValueTask WriteToAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return stream.WriteAsync(Memory, cancellationToken);
    }

    public byte[] ToArray() => Span.ToArray();

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
