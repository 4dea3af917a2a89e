using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Migration.Core.Checkpoints;

/// <summary>
/// A file stream that asks the kernel to start writing each window of data to disk as soon as it is written, so the
/// disk works while the rest of the checkpoint is still being encoded and the final fsync has little left to wait for.
/// </summary>
/// <remarks>
/// Without it the page cache holds the whole file until fsync, and the write-out starts only when the capture has
/// finished: for a 512 MiB checkpoint that serialised ~0.3 s of encoding and ~0.4 s of disk time here.
/// <c>sync_file_range(SYNC_FILE_RANGE_WRITE)</c> starts write-out without waiting; durability still comes from fsync.
/// </remarks>
internal sealed partial class WritebackStream(FileStream inner) : Stream
{
    private const long Window = 16L << 20;
    private const uint SyncFileRangeWrite = 2;

    private long _written;
    private long _kicked;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _written;

    public override long Position { get => _written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        Advance(buffer.Length);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        Advance(buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    /// <summary>Flushes to the kernel and waits until the data is on disk.</summary>
    public void FlushToDisk() => inner.Flush(flushToDisk: true);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private void Advance(int count)
    {
        _written += count;
        if (_written - _kicked < Window || !OperatingSystem.IsLinux())
        {
            return;
        }

        // Only what has reached the kernel can be written out: the stream's own buffer is flushed first.
        inner.Flush();
        var end = _written - (_written % Window);

        // Advisory: if the call fails the data still reaches the disk at fsync, only later.
        _ = SyncFileRange(inner.SafeFileHandle, _kicked, end - _kicked, SyncFileRangeWrite);
        _kicked = end;
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(SafeFileHandle fd, long offset, long nbytes, uint flags);
}
