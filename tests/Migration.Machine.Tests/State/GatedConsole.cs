namespace Migration.Machine.Tests.State;

/// <summary>
/// A guest console that holds the vCPU inside the console write that completes a chosen line until the test lets
/// it go. A pause requested while it is held takes effect right after that write, so a capture lands at the same
/// instruction on every run, however slow or loaded the host is.
/// </summary>
internal sealed class GatedConsole(int holdAfterLines) : Stream
{
    private static readonly TimeSpan HoldLimit = TimeSpan.FromSeconds(60);

    private readonly MemoryStream _buffer = new();
    private readonly ManualResetEventSlim _held = new(false);
    private readonly ManualResetEventSlim _released = new(false);
    private int _lines;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _buffer.Length;

    public override long Position
    {
        get => _buffer.Position;
        set => throw new NotSupportedException();
    }

    /// <summary>Waits (bounded) until the guest is held after the chosen line.</summary>
    public bool WaitUntilHeld(TimeSpan timeout) => _held.Wait(timeout);

    public void Release() => _released.Set();

    /// <summary>What the guest has written; read it only while the vCPU is held, paused or finished.</summary>
    public byte[] ToArray() => _buffer.ToArray();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _buffer.Write(buffer);
        var before = _lines;
        _lines += buffer.Count((byte)'\n');
        if (before < holdAfterLines && _lines >= holdAfterLines)
        {
            _held.Set();
            // Bounded, so a test that never releases fails on its own timeout instead of hanging the vCPU thread.
            _released.Wait(HoldLimit);
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
            _released.Set();
            _buffer.Dispose();
            _held.Dispose();
            _released.Dispose();
        }

        base.Dispose(disposing);
    }
}
