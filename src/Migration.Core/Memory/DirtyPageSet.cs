using System.Collections;
using System.Numerics;

namespace Migration.Core.Memory;

/// <summary>An immutable set of page indices, as collected from a <see cref="DirtyLog"/>.</summary>
public sealed class DirtyPageSet : IReadOnlyCollection<int>
{
    private readonly ulong[] _words;

    internal DirtyPageSet(ulong[] words, int pageCount, int count)
    {
        _words = words;
        PageCount = pageCount;
        Count = count;
    }

    /// <summary>Number of pages in the memory the set was collected from (not the number of dirty pages).</summary>
    public int PageCount { get; }

    public int Count { get; }

    public bool Contains(int page) =>
        (uint)page < (uint)PageCount && (_words[page >> 6] & (1UL << (page & 63))) != 0;

    public Enumerator GetEnumerator() => new(_words);

    IEnumerator<int> IEnumerable<int>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Walks set bits word by word, so a sparse set over 8 GiB costs its word count, not its page count.</summary>
    public struct Enumerator : IEnumerator<int>
    {
        private readonly ulong[] _words;
        private int _wordIndex;
        private ulong _remaining;

        internal Enumerator(ulong[] words)
        {
            _words = words;
            _wordIndex = -1;
            _remaining = 0;
            Current = -1;
        }

        public int Current { get; private set; }

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            while (_remaining == 0)
            {
                if (++_wordIndex >= _words.Length)
                {
                    return false;
                }

                _remaining = _words[_wordIndex];
            }

            var bit = BitOperations.TrailingZeroCount(_remaining);
            _remaining &= _remaining - 1;
            Current = (_wordIndex << 6) + bit;
            return true;
        }

        public void Reset()
        {
            _wordIndex = -1;
            _remaining = 0;
        }

        public readonly void Dispose()
        {
        }
    }
}
