using System.Text;

namespace Migration.Cli.Bench;

/// <summary>A console sink that signals once the guest has printed a given text.</summary>
internal sealed class ReadySignal(string text) : Stream
{
    private readonly StringBuilder _seen = new();
    private readonly ManualResetEventSlim _ready = new();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public bool Wait(TimeSpan timeout) => _ready.Wait(timeout);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_seen)
        {
            if (_ready.IsSet || _seen.Length > 4096)
            {
                return;
            }

            _seen.Append(Encoding.UTF8.GetString(buffer));
            if (_seen.ToString().Contains(text, StringComparison.Ordinal))
            {
                _ready.Set();
            }
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ready.Dispose();
        }

        base.Dispose(disposing);
    }
}
