using System.Globalization;
using Migration.Core.Memory;
using Migration.Core.Transfer;
using Migration.Machine.RiscV;
using Xunit.Abstractions;

namespace Migration.Machine.Tests.Transfer;

/// <summary>
/// Figures for the README: a 1 GiB VM migrated over loopback TCP in-process, median of five runs. Run with
/// <c>dotnet test tests/Migration.Machine.Tests -c Release --no-build --filter "Category=Benchmark" --logger "console;verbosity=detailed"</c>;
/// the default test run (tools/test.sh) leaves them out.
/// </summary>
[Trait("Category", "Benchmark")]
[Collection(TimingCollection.Name)]
public sealed class MigrationFigures(ITestOutputHelper output)
{
    private const ulong Gigabyte = 1UL << 30;
    private const int Runs = 5;

    [Fact]
    public async Task Idle_vm_with_512_MiB_of_random_contents() =>
        await MeasureAsync("idle, 512 MiB random", () =>
        {
            var machine = TransferSetup.Load("idle", Gigabyte);
            TransferSetup.FillRandom(machine, 1UL << 20, 512UL << 20, Random.Shared.Next());
            return machine;
        });

    [Fact]
    public async Task Idle_vm_all_zero() => await MeasureAsync("idle, all zero", () => TransferSetup.Load("idle", Gigabyte));

    [Fact]
    public Task Prefault_on_and_off_interleaved() => PrefaultInterleavedAsync(MemoryBacking.HugePages);

    [Fact]
    public Task Prefault_on_and_off_interleaved_on_small_pages() => PrefaultInterleavedAsync(MemoryBacking.SmallPages);

    private async Task PrefaultInterleavedAsync(MemoryBacking backing)
    {
        var on = new List<MigrationReport>();
        var off = new List<MigrationReport>();
        for (var run = 0; run < 2 * Runs; run++)
        {
            using var source = TransferSetup.Load("idle", Gigabyte);
            TransferSetup.FillRandom(source, 1UL << 20, 512UL << 20, run);
            source.Start();
            var prefault = run % 2 == 0;
            var (report, destination) = await LiveMigration.RunAsync(source, receive: new MigrationReceiveOptions { Secret = TransferSetup.Secret, Prefault = prefault, MemoryBacking = backing });
            destination.Dispose();
            (prefault ? on : off).Add(report);
        }

        foreach (var (name, reports) in new[] { ("prefault on", on), ("prefault off", off) })
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {backing} {name} | {Median(reports.Select(r => r.TotalTime.TotalMilliseconds)):F1} ms | {Median(reports.Select(r => r.GuestDowntime.TotalMilliseconds)):F2} ms | " +
                $"{string.Join(' ', reports.Select(r => r.TotalTime.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)))} |"));
        }
    }

    [Fact]
    public async Task Dirty_64_MiB_working_set_at_20000_pages_per_second() =>
        await MeasureAsync("dirty 16384 pages at 20,000 pages/s", () => TransferSetup.Load("dirty", Gigabyte, null, "16384", "20000"), settle: TimeSpan.FromSeconds(1));

    private async Task MeasureAsync(string name, Func<RiscVMachine> create, bool? prefault = null, TimeSpan settle = default)
    {
        var reports = new List<MigrationReport>();
        for (var run = 0; run < Runs; run++)
        {
            using var source = create();
            source.Start();
            await Task.Delay(settle == default ? TimeSpan.FromMilliseconds(100) : settle);
            var receive = new MigrationReceiveOptions { Secret = TransferSetup.Secret, Prefault = prefault };
            var (report, destination) = await LiveMigration.RunAsync(source, receive: receive);
            destination.Dispose();
            reports.Add(report);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name} run {run}: total {report.TotalTime.TotalMilliseconds:F1} ms, downtime {report.GuestDowntime.TotalMilliseconds:F2} ms, " +
                $"{report.BytesSent / 1e6:F1} MB at {report.BytesPerSecond / 1e9:F2} GB/s, rounds {report.Rounds.Count} ({string.Join(' ', report.Rounds.Select(r => r.Pages))} pages)"));
        }

        var total = Median(reports.Select(r => r.TotalTime.TotalMilliseconds));
        var downtime = Median(reports.Select(r => r.GuestDowntime.TotalMilliseconds));
        var rate = Median(reports.Select(r => r.BytesPerSecond / 1e9));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {total:F1} ms | {downtime:F2} ms | {rate:F2} GB/s |"));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
