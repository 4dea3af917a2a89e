using MessagePack;

namespace Migration.Core.Sockets;

/// <summary>
/// A bounded FIFO of bytes (a ring buffer that grows on demand up to <see cref="Capacity"/>). A full queue
/// accepts fewer bytes than offered — that is the back-pressure; nothing offered and accepted is ever dropped.
/// </summary>
[MessagePackObject]
public sealed class ByteQueue
{
    private const int InitialSize = 4096;

    private byte[] _buffer = [];
    private int _head;
    private int _count;

    public ByteQueue()
        : this(256 * 1024)
    {
    }

    public ByteQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    [Key(0)]
    public int Capacity { get; set; }

    /// <summary>The queued bytes, oldest first; setting replaces the contents (for restore).</summary>
    [Key(1)]
    public byte[] Contents
    {
        get => ToArray();
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length > Capacity)
            {
                throw new InvalidDataException($"queue holds {value.Length} bytes, more than its capacity {Capacity}");
            }

            _buffer = value.Length == 0 ? [] : (byte[])value.Clone();
            _head = 0;
            _count = value.Length;
        }
    }

    [IgnoreMember]
    public int Count => _count;

    [IgnoreMember]
    public int Free => Capacity - _count;

    [IgnoreMember]
    public bool IsEmpty => _count == 0;

    [IgnoreMember]
    public bool IsFull => _count >= Capacity;

    /// <summary>Appends as much of <paramref name="data"/> as fits and returns how much that was.</summary>
    public int Enqueue(ReadOnlySpan<byte> data)
    {
        var accepted = Math.Min(data.Length, Free);
        if (accepted == 0)
        {
            return 0;
        }

        EnsureSize(_count + accepted);
        var tail = (_head + _count) % _buffer.Length;
        var first = Math.Min(accepted, _buffer.Length - tail);
        data[..first].CopyTo(_buffer.AsSpan(tail));
        data[first..accepted].CopyTo(_buffer);
        _count += accepted;
        return accepted;
    }

    /// <summary>Copies up to <c>destination.Length</c> of the oldest bytes without removing them.</summary>
    public int Peek(Span<byte> destination)
    {
        var n = Math.Min(destination.Length, _count);
        if (n == 0)
        {
            return 0;
        }

        var first = Math.Min(n, _buffer.Length - _head);
        _buffer.AsSpan(_head, first).CopyTo(destination);
        _buffer.AsSpan(0, n - first).CopyTo(destination[first..]);
        return n;
    }

    /// <summary>Copies up to <c>destination.Length</c> bytes starting <paramref name="offset"/> bytes after the oldest, without removing any.</summary>
    public int Peek(int offset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var n = Math.Min(destination.Length, _count - offset);
        if (n <= 0)
        {
            return 0;
        }

        var start = (_head + offset) % _buffer.Length;
        var first = Math.Min(n, _buffer.Length - start);
        _buffer.AsSpan(start, first).CopyTo(destination);
        _buffer.AsSpan(0, n - first).CopyTo(destination[first..]);
        return n;
    }

    public int Dequeue(Span<byte> destination)
    {
        var n = Peek(destination);
        Discard(n);
        return n;
    }

    public void Discard(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _count);
        _count -= count;
        _head = _count == 0 ? 0 : (_head + count) % _buffer.Length;
    }

    /// <summary>The oldest contiguous run of queued bytes, for handing to a host socket without a copy.</summary>
    public ReadOnlyMemory<byte> FirstSegment() =>
        _count == 0 ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(_head, Math.Min(_count, _buffer.Length - _head));

    public byte[] ToArray()
    {
        var copy = new byte[_count];
        Peek(copy);
        return copy;
    }

    public void Clear()
    {
        _head = 0;
        _count = 0;
    }

    private void EnsureSize(int needed)
    {
        if (needed <= _buffer.Length)
        {
            return;
        }

        var size = Math.Max(InitialSize, _buffer.Length);
        while (size < needed)
        {
            size *= 2;
        }

        var grown = new byte[Math.Min(size, Math.Max(Capacity, needed))];
        Peek(grown);
        _buffer = grown;
        _head = 0;
    }
}
