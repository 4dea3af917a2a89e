using System.Globalization;

namespace Migration.Cli;

/// <summary>Parses durations as users write them: 500ms, 2s, 1.5s, 1m, 250us.</summary>
internal static class Duration
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var s = text.Trim();
        var split = 0;
        while (split < s.Length && (char.IsAsciiDigit(s[split]) || s[split] == '.'))
        {
            split++;
        }

        if (split == 0 || !double.TryParse(s.AsSpan(0, split), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        var unitSeconds = s[split..].ToLowerInvariant() switch
        {
            "us" or "µs" => 1e-6,
            "ms" => 1e-3,
            "s" or "" => 1,
            "m" or "min" => 60,
            "h" => 3600,
            _ => -1,
        };
        if (unitSeconds < 0 || number * unitSeconds > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(number * unitSeconds);
        return true;
    }
}
