namespace Migration.Cli.Bench;

/// <summary>Median, least and greatest of a set of measurements.</summary>
internal sealed record Spread(double Median, double Min, double Max)
{
    /// <summary>Null for no values; the median of an even count is the mean of the middle two.</summary>
    public static Spread? Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new Spread(median, sorted[0], sorted[^1]);
    }
}
