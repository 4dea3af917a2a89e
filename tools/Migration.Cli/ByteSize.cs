using System.Globalization;

namespace Migration.Cli;

/// <summary>Parses sizes as users write them: 4096, 64K, 256M, 256MiB, 1G, 1GiB (binary units).</summary>
internal static class ByteSize
{
    public static bool TryParse(string text, out ulong bytes)
    {
        bytes = 0;
        var s = text.Trim();
        var split = 0;
        while (split < s.Length && char.IsAsciiDigit(s[split]))
        {
            split++;
        }

        if (split == 0 || !ulong.TryParse(s.AsSpan(0, split), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        var shift = s[split..].ToUpperInvariant() switch
        {
            "" or "B" => 0,
            "K" or "KB" or "KIB" => 10,
            "M" or "MB" or "MIB" => 20,
            "G" or "GB" or "GIB" => 30,
            _ => -1,
        };
        if (shift < 0 || number > ulong.MaxValue >> shift)
        {
            return false;
        }

        bytes = number << shift;
        return true;
    }
}
