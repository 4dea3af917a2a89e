using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using Migration.Core.Memory;

namespace Migration.Cli.Bench;

/// <summary>
/// Fills guest memory with deterministic contents for the checkpoint benchmark. Everything goes through
/// <see cref="GuestMemory.Write"/>, so the pages are dirty exactly as if the guest had written them.
/// </summary>
internal static class MemoryContents
{
    private const int ChunkBytes = 1 << 20;

    // Large enough that pages drawn from it rarely share an offset, small enough to build in a few milliseconds.
    private const int TextBytes = 4 << 20;

    // Chosen together by measuring LZ4 (fast level, one 4 KiB page at a time, as the page codec runs it): 2.3x
    // overall, no page below 2.1x. A bigger pool or fewer phrases compress less, a smaller pool more.
    private const int PhrasePool = 48;
    private const int PhraseWordsMin = 3;
    private const int PhraseWordsMax = 8;
    private const double PhraseShare = 0.6;

    public static void Fill(GuestMemory memory, ulong address, ulong length, ContentPattern pattern, int seed)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (!memory.Contains(address, length))
        {
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"0x{address:x} + {length} bytes is not inside guest RAM 0x{memory.Base:x}..0x{memory.End:x}");
        }

        switch (pattern)
        {
            case ContentPattern.Random:
                FillRandom(memory, address, length, seed);
                break;
            case ContentPattern.Zero:
                break;
            case ContentPattern.Text:
                FillText(memory, address, length, seed);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(pattern), pattern, "unknown content pattern");
        }
    }

    /// <summary>A well-mixed 64-bit value from a seed and a position (SplitMix64's finaliser).</summary>
    private static ulong Mix(int seed, ulong position)
    {
        var z = ((ulong)(uint)seed << 32 ^ position) + 0x9E37_79B9_7F4A_7C15;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
        return z ^ (z >> 31);
    }

    private static void FillRandom(GuestMemory memory, ulong address, ulong length, int seed)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(ChunkBytes);
        for (ulong offset = 0; offset < length; offset += ChunkBytes)
        {
            var chunk = buffer.AsSpan(0, (int)Math.Min(ChunkBytes, length - offset));
            // Seeded per chunk rather than once, so a chunk's bytes do not depend on how much came before it.
            Xoshiro256StarStar(chunk, Mix(seed, offset / ChunkBytes));
            memory.Write(address + offset, chunk);
        }
    }

    // System.Random(seed) is the legacy subtractive generator at a few hundred MB/s. This is xoshiro256** on four
    // independent lanes of a 256-bit vector; its multiplications (by 5 and 9) are shifts and adds, so the whole step
    // vectorises and the fill runs at memory speed.
    private static void Xoshiro256StarStar(Span<byte> destination, ulong seed)
    {
        Span<ulong> lanes = stackalloc ulong[4 * Vector256<ulong>.Count];
        foreach (ref var lane in lanes)
        {
            lane = SplitMix64(ref seed);
        }

        var s0 = Vector256.Create<ulong>(lanes[..4]);
        var s1 = Vector256.Create<ulong>(lanes[4..8]);
        var s2 = Vector256.Create<ulong>(lanes[8..12]);
        var s3 = Vector256.Create<ulong>(lanes[12..]);
        var vectors = MemoryMarshal.Cast<byte, Vector256<ulong>>(destination);
        Vector256<ulong> output;
        for (var i = 0; i < vectors.Length; i++)
        {
            Step(ref s0, ref s1, ref s2, ref s3, out output);
            vectors[i] = output;
        }

        var tail = destination[(vectors.Length * Vector256<byte>.Count)..];
        if (!tail.IsEmpty)
        {
            Step(ref s0, ref s1, ref s2, ref s3, out output);
            Span<byte> last = stackalloc byte[Vector256<byte>.Count];
            output.AsByte().CopyTo(last);
            last[..tail.Length].CopyTo(tail);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref Vector256<ulong> s0, ref Vector256<ulong> s1, ref Vector256<ulong> s2, ref Vector256<ulong> s3,
        out Vector256<ulong> output)
    {
        var times5 = s1 + (s1 << 2);
        var rotated = (times5 << 7) | (times5 >>> 57);
        output = rotated + (rotated << 3);
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 45) | (s3 >>> 19);
    }

    private static ulong SplitMix64(ref ulong state)
    {
        state += 0x9E37_79B9_7F4A_7C15;
        var z = state;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
        return z ^ (z >> 31);
    }

    private static void FillText(GuestMemory memory, ulong address, ulong length, int seed)
    {
        var text = BuildText(seed);
        var end = address + length;
        var cursor = address;
        while (cursor < end)
        {
            // Pieces end at page boundaries so each page is one run of text starting at its own offset: pages are
            // alike in statistics but not identical, as two pages of one document would be.
            var pageEnd = (cursor | (GuestMemory.PageSize - 1)) + 1;
            var count = (int)(Math.Min(pageEnd, end) - cursor);
            var start = (int)(Mix(seed, cursor >> GuestMemory.PageShift) % (ulong)(text.Length - GuestMemory.PageSize + 1));
            memory.Write(cursor, text.AsSpan(start, count));
            cursor += (ulong)count;
        }
    }

    private static byte[] BuildText(int seed)
    {
        var random = new Random(seed);
        var words = WordList.Words;
        // Zipf's law, as word frequencies in English prose follow it: the word of rank r is drawn with weight
        // 1 / (r + 3.7) (Mandelbrot's offset keeps "the" near its real share of ~6 %).
        var cumulative = new double[words.Length];
        var total = 0.0;
        for (var rank = 0; rank < words.Length; rank++)
        {
            total += 1 / (rank + 3.7);
            cumulative[rank] = total;
        }

        string NextWord()
        {
            var index = Array.BinarySearch(cumulative, random.NextDouble() * total);
            return words[index < 0 ? Math.Min(~index, words.Length - 1) : index];
        }

        // Independent words alone compress only ~1.4x under LZ4; prose also repeats whole phrases (names, idioms,
        // boilerplate), and drawing part of the text from a small pool of them brings pages into the 2-3x that
        // the benchmark's text scenario calls for.
        var phrases = new string[PhrasePool];
        for (var i = 0; i < phrases.Length; i++)
        {
            phrases[i] = string.Join(' ', Enumerable.Range(0, random.Next(PhraseWordsMin, PhraseWordsMax + 1)).Select(_ => NextWord()));
        }

        var text = new byte[TextBytes];
        var length = 0;
        var lineLength = 0;
        var lineLimit = random.Next(40, 100);
        while (true)
        {
            var token = random.NextDouble() < PhraseShare ? phrases[random.Next(phrases.Length)] : NextWord();
            if (length + token.Length + 1 > text.Length)
            {
                break;
            }

            Encoding.ASCII.GetBytes(token, text.AsSpan(length));
            length += token.Length;
            lineLength += token.Length + 1;
            if (lineLength >= lineLimit)
            {
                text[length++] = (byte)'\n';
                lineLength = 0;
                lineLimit = random.Next(40, 100);
            }
            else
            {
                text[length++] = (byte)' ';
            }
        }

        text.AsSpan(length).Fill((byte)' ');
        return text;
    }
}
