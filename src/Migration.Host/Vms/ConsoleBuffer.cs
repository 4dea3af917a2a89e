namespace Migration.Host.Vms;

/// <summary>
/// The tail of a VM's console output: a bounded ring addressed by a console offset that only grows, so a reader that
/// keeps its offset (<c>console --follow</c>) resumes exactly where it stopped, and learns how much it missed if the
/// guest wrote faster than it read. Offsets are the guest's own console byte count, which a restored or migrated
/// machine carries on, so they stay meaningful across hosts.
/// </summary>
public sealed class ConsoleBuffer
{
    public const int DefaultCapacity = 1 << 20;

    private readonly byte[] _ring;
    private readonly Lock _lock = new();
    private long _start;
    private long _end;
    private bool _ended;
    private TaskCompletionSource _changed = NewSignal();
    private int _waiting;

    public ConsoleBuffer(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new byte[capacity];
    }

    public int Capacity => _ring.Length;

    /// <summary>The offset after the last byte written.</summary>
    public long End
    {
        get
        {
            lock (_lock)
            {
                return _end;
            }
        }
    }

    /// <summary>Whether the VM has finished: no more bytes will come.</summary>
    public bool Ended
    {
        get
        {
            lock (_lock)
            {
                return _ended;
            }
        }
    }

    /// <summary>Sets the first offset: a restored guest has already written this many bytes elsewhere.</summary>
    /// <exception cref="InvalidOperationException">Bytes were written already.</exception>
    public void StartAt(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        lock (_lock)
        {
            if (_end != _start || _end != 0)
            {
                throw new InvalidOperationException("the console has output already; its offset cannot move");
            }

            _start = _end = offset;
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        TaskCompletionSource changed;
        lock (_lock)
        {
            if (data.Length > _ring.Length)
            {
                // Only the last capacity bytes can be kept; the rest still count, so offsets stay the guest's.
                _end += data.Length - _ring.Length;
                data = data[^_ring.Length..];
            }

            var at = (int)(_end % _ring.Length);
            var first = Math.Min(data.Length, _ring.Length - at);
            data[..first].CopyTo(_ring.AsSpan(at));
            data[first..].CopyTo(_ring);
            _end += data.Length;
            _start = Math.Max(_start, _end - _ring.Length);
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }

    /// <summary>Marks the end of output (the VM finished) and wakes every waiting reader.</summary>
    public void Finish()
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _ended = true;
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }

    /// <summary>Up to <paramref name="maxBytes"/> bytes from <paramref name="offset"/>, or from the oldest kept byte when that is later.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The offset is past the end of the output.</exception>
    public ConsoleRead Read(long offset, int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        lock (_lock)
        {
            if (offset > _end)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), offset, $"offset {offset} is past the end of the console output ({_end} bytes so far)");
            }

            var from = Math.Max(offset, _start);
            var count = (int)Math.Min(_end - from, maxBytes);
            var data = new byte[count];
            var at = (int)(from % _ring.Length);
            var first = Math.Min(count, _ring.Length - at);
            _ring.AsSpan(at, first).CopyTo(data);
            _ring.AsSpan(0, count - first).CopyTo(data.AsSpan(first));
            return new ConsoleRead(from, data, from - offset, _ended && from + count == _end);
        }
    }

    /// <summary>Completes when there are bytes after <paramref name="offset"/>, the output has ended, or the timeout passes.</summary>
    /// <summary>Long polls waiting now; lets a caller know a poll has reached the daemon.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public async Task WaitAsync(long offset, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task changed;
        lock (_lock)
        {
            if (_end > offset || _ended)
            {
                return;
            }

            changed = _changed.Task;
        }

        Interlocked.Increment(ref _waiting);
        try
        {
            await changed.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A long poll that times out answers with no bytes; the caller asks again.
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
