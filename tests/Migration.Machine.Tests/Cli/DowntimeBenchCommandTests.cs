using System.Text.Json;
using Migration.Cli.Bench;

namespace Migration.Machine.Tests.Cli;

/// <summary>
/// <c>bench downtime</c> on tiny sizes, so its code paths — two host processes, the idle, dirty and kv guests, the client
/// load and probe, the table, the JSON and the chart — are exercised by every test run. No figure is judged for speed.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class DowntimeBenchCommandTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public void A_tiny_matrix_prints_its_cells_and_writes_json_and_a_png_chart()
    {
        var directory = Directory.CreateTempSubdirectory("migration-bench-test-").FullName;
        try
        {
            var json = Path.Combine(directory, "out", "downtime.json");
            var chart = Path.Combine(directory, "out", "downtime.png");
            var (code, stdout, stderr) = CliProcess.Run(
                "bench", "downtime", "--quick", "--memory", "16M", "--runs", "1", "--workload", "idle,dirty:1M:1000,kv", "--compression", "off,on", "--json", json, "--chart", chart);

            Assert.True(code == 0, $"bench downtime exited {code}: {stderr}\n{stdout}");
            var rows = stdout.Split('\n').Where(l => l.StartsWith("| 16 MiB |", StringComparison.Ordinal)).ToList();
            Assert.Equal(6, rows.Count);
            Assert.Contains(rows, r => r.StartsWith("| 16 MiB | idle |", StringComparison.Ordinal));
            Assert.Contains(rows, r => r.StartsWith("| 16 MiB | dirty:1M:1000 |", StringComparison.Ordinal));
            Assert.Contains(rows, r => r.StartsWith("| 16 MiB | kv |", StringComparison.Ordinal));
            Assert.Contains("[6/6]", stderr, StringComparison.Ordinal);

            using var document = JsonDocument.Parse(File.ReadAllBytes(json));
            var cells = document.RootElement.GetProperty("cells").EnumerateArray().ToList();
            Assert.Equal(["idle off", "idle on", "dirty:1M:1000 off", "dirty:1M:1000 on", "kv off", "kv on"],
                cells.Select(c => $"{c.GetProperty("workload").GetString()} {(c.GetProperty("compression").GetBoolean() ? "on" : "off")}"));
            foreach (var cell in cells)
            {
                var workload = cell.GetProperty("workload").GetString();
                Assert.Equal(16L << 20, cell.GetProperty("memoryBytes").GetInt64());
                var run = Assert.Single(cell.GetProperty("runs").EnumerateArray());
                var total = run.GetProperty("totalMilliseconds").GetDouble();
                var downtime = run.GetProperty("downtimeMilliseconds").GetDouble();
                Assert.True(downtime > 0 && downtime <= total, $"{workload}: downtime {downtime} ms, total {total} ms");
                Assert.True(run.GetProperty("bytesSent").GetInt64() > 0, $"{workload}: no bytes sent");
                Assert.True(run.GetProperty("rounds").GetInt32() >= 1, $"{workload}: no rounds");
                Assert.Equal(total, cell.GetProperty("totalMilliseconds").GetProperty("median").GetDouble());
                var gigabytesPerSecond = run.GetProperty("gigabytesPerSecond").GetDouble();
                Assert.Equal((16 << 20) / (total / 1000) / 1e9, gigabytesPerSecond, 6);
                var client = run.GetProperty("clientMilliseconds");
                if (workload == "kv")
                {
                    // Whatever the backend, the probe's gap spans at least the guest's pause.
                    Assert.True(client.GetDouble() >= downtime * 0.9, $"kv: client gap {client} ms, downtime {downtime} ms");
                    Assert.NotNull(cell.GetProperty("clientLoad").GetString());
                }
                else
                {
                    Assert.Equal(JsonValueKind.Null, client.ValueKind);
                }
            }

            // The dirty guest's pages hold one word each: with compression asked for, the migration must carry far fewer bytes.
            var dirty = cells.Where(c => c.GetProperty("workload").GetString() == "dirty:1M:1000")
                .ToDictionary(c => c.GetProperty("compression").GetBoolean(), c => c.GetProperty("bytesSent").GetProperty("median").GetDouble());
            Assert.True(dirty[true] * 4 < dirty[false], $"dirty: {dirty[true]} bytes compressed, {dirty[false]} raw");

            Assert.Equal(PngSignature, File.ReadAllBytes(chart).Take(PngSignature.Length));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("--workload", "dirty:lots:10", "migration: --workload: 'dirty:lots:10': working set 'lots' is not a size of whole 4 KiB pages (such as 64M)")]
    [InlineData("--backend", "carrier-pigeon", "migration: --backend: 'carrier-pigeon' is none of auto, repair, relay, plain")]
    [InlineData("--memory", "3", "migration: --memory: '3' is not a memory size of whole 4 KiB pages from 16M to 64G (such as 256M or 1G)")]
    [InlineData("--compression", "maybe", "migration: --compression: 'maybe' is neither on nor off")]
    public void Bad_input_is_refused_in_one_line_before_anything_starts(string option, string value, string message)
    {
        var (code, stdout, stderr) = CliProcess.Run("bench", "downtime", option, value);

        Assert.Equal(2, code);
        Assert.Equal(message, stderr.Trim());
        Assert.Equal("", stdout);
    }

    [Fact]
    public void Cells_whose_working_set_does_not_fit_the_memory_are_left_out()
    {
        var settings = DowntimeSettings.Quick with
        {
            Memories = [16UL << 20, 64UL << 20],
            Workloads = [new(DowntimeWorkloadKind.Idle), new(DowntimeWorkloadKind.Dirty, 32UL << 20, 100)],
        };

        Assert.Equal(["16 MiB idle", "64 MiB idle", "64 MiB dirty:32M:100"], settings.Cells().Select(c => $"{c.MemoryText} {c.Workload.Name}"));
    }

    [Theory]
    [InlineData(new double[] { 3, 1, 2 }, 2, 1, 3)]
    [InlineData(new double[] { 4, 1, 3, 2 }, 2.5, 1, 4)]
    [InlineData(new double[] { 7 }, 7, 7, 7)]
    public void A_spread_is_the_median_least_and_greatest(double[] values, double median, double min, double max) =>
        Assert.Equal(new Spread(median, min, max), Spread.Of(values));
}
