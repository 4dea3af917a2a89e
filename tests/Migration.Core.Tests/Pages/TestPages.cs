using System.Text;
using Migration.Core.Memory;

namespace Migration.Core.Tests.Pages;

/// <summary>Deterministic page contents of the kinds guest memory holds.</summary>
internal static class TestPages
{
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not",
        "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were",
        "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would",
        "who", "so", "no", "memory", "page", "migration", "machine", "network", "connection", "checkpoint",
    ];

    public static void Random(GuestMemory memory, int page, int seed) => new Random(seed).NextBytes(memory.GetPage(page));

    /// <summary>English-like prose: LZ4 shrinks it to roughly 60 %.</summary>
    public static void Text(GuestMemory memory, int page, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder(GuestMemory.PageSize + 64);
        var sentenceStart = true;
        while (text.Length < GuestMemory.PageSize)
        {
            // Squaring the uniform draw favours the front of the list, roughly as word frequencies do.
            var word = Words[(int)(Math.Pow(random.NextDouble(), 2) * Words.Length)];
            text.Append(sentenceStart ? char.ToUpperInvariant(word[0]) + word[1..] : word);
            sentenceStart = random.Next(12) == 0;
            text.Append(sentenceStart ? ". " : random.Next(9) == 0 ? ", " : " ");
        }

        Encoding.ASCII.GetBytes(text.ToString(0, GuestMemory.PageSize), memory.GetPage(page));
    }

    public static void LastByteOnly(GuestMemory memory, int page) => memory.GetPage(page)[^1] = 0x80;

    public static void Fill(GuestMemory memory, byte value)
    {
        for (var page = 0; page < memory.PageCount; page++)
        {
            memory.GetPage(page).Fill(value);
        }
    }

    /// <summary>Every kind, spread so that batches of 64 see mixtures and runs.</summary>
    public static GuestMemory Mixed(int pageCount, int seed)
    {
        var memory = new GuestMemory((ulong)pageCount * GuestMemory.PageSize);
        for (var page = 0; page < pageCount; page++)
        {
            switch ((page * 7 + seed) % 6)
            {
                case 0:
                    Random(memory, page, seed + page);
                    break;
                case 1:
                case 2:
                    Text(memory, page, seed + page);
                    break;
                case 3:
                    LastByteOnly(memory, page);
                    break;
                default:
                    break;
            }
        }

        return memory;
    }

    public static bool SameContents(GuestMemory a, GuestMemory b) =>
        a.PageCount == b.PageCount && Enumerable.Range(0, a.PageCount).All(p => a.GetPage(p).SequenceEqual(b.GetPage(p)));

    public static bool AllBytesAre(GuestMemory memory, byte value) =>
        Enumerable.Range(0, memory.PageCount).All(p => !memory.GetPage(p).ContainsAnyExcept(value));
}
