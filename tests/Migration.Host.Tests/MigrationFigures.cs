using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Migration.Host.Api;

namespace Migration.Host.Tests;

/// <summary>One live migration through the real command line (<c>migrate --json</c>), timed from outside, with what a ping client saw.</summary>
internal sealed class MigrationFigures
{
    private readonly List<double> _downtimes = [];
    private readonly List<double> _gaps = [];

    public int Count => _downtimes.Count;

    /// <summary>Migrates, waits (bounded) until the ping client has a reply from the destination, and records both figures.</summary>
    public async Task MigrateAsync(string api, string vm, string to, PingClient ping)
    {
        var before = Stopwatch.GetTimestamp();
        var (code, output, error) = await ProcessRunner.CliAsync("migrate", "--api", api, vm, "--to", to, "--json");
        Assert.True(code == 0, $"migration {Count + 1} to {to} exited {code}: {error}");
        var result = JsonSerializer.Deserialize(output, HostJsonContext.Default.MigrationJobResult)!;
        await ping.WaitForReplyAfterAsync(Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(10));
        _downtimes.Add(result.DowntimeMilliseconds);
        _gaps.Add(ping.LargestGapEndingIn(before, Stopwatch.GetTimestamp()).TotalMilliseconds);
    }

    public string Summary() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Count} migrations; client-observed gap median {Median(_gaps):F1} ms, worst {_gaps.DefaultIfEmpty().Max():F1} ms; " +
        $"guest downtime median {Median(_downtimes):F1} ms, worst {_downtimes.DefaultIfEmpty().Max():F1} ms\n" +
        $"gaps ms: {string.Join(", ", _gaps.Select(g => g.ToString("F1", CultureInfo.InvariantCulture)))}\n" +
        $"downtimes ms: {string.Join(", ", _downtimes.Select(d => d.ToString("F1", CultureInfo.InvariantCulture)))}");

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
