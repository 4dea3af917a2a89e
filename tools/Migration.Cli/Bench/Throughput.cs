namespace Migration.Cli.Bench;

/// <summary>One measured transfer: the median time of the repetitions and the rate it gives, in GB/s (10^9 bytes).</summary>
internal readonly record struct Throughput(double Seconds, double GigabytesPerSecond)
{
    public static Throughput From(long bytes, double seconds) =>
        new(seconds, seconds > 0 ? bytes / seconds / 1e9 : double.PositiveInfinity);
}
