using System.Globalization;

namespace Migration.Host.Tests.Faults;

/// <summary>Megabytes of known keys in the kv guest, so a migration has real pages to move and a check has every byte to compare.</summary>
internal static class KvData
{
    public const int Keys = 1024;
    private const int Batch = 128;
    private const int ValueLength = 2048;

    public static async Task FillAsync(int port)
    {
        for (var first = 0; first < Keys; first += Batch)
        {
            var words = Enumerable.Range(first, Batch).SelectMany(i => new[] { Key(i), Value(i) });
            Assert.Equal("OK", await KvClient.CommandAsync(port, ["mset", .. words]));
        }
    }

    /// <summary>Every key with its exact value, and nothing else.</summary>
    public static async Task AssertIntactAsync(int port)
    {
        Assert.Equal(Keys.ToString(CultureInfo.InvariantCulture), await KvClient.CommandAsync(port, "dbsize"));
        for (var first = 0; first < Keys; first += Batch)
        {
            var expected = string.Join('\n', Enumerable.Range(first, Batch).Select(Value));
            Assert.Equal(expected, await KvClient.CommandAsync(port, ["mget", .. Enumerable.Range(first, Batch).Select(Key)]));
        }
    }

    private static string Key(int i) => string.Create(CultureInfo.InvariantCulture, $"key:{i}");

    private static string Value(int i)
    {
        var seed = string.Create(CultureInfo.InvariantCulture, $"value-{i}-");
        return string.Concat(Enumerable.Repeat(seed, (ValueLength / seed.Length) + 1))[..ValueLength];
    }
}
