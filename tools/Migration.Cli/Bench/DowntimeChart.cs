using System.Globalization;
using ScottPlot;

namespace Migration.Cli.Bench;

/// <summary>
/// The chart of the downtime benchmark: median guest downtime (left) and total migration time (right) against the
/// rate at which the guest dirties memory, one line per memory size, working set, backend and compression setting.
/// The idle guest dirties nothing and stands at 0 on every line; kv, whose rate is its clients', dirty guests
/// without a set rate (0: as fast as they can) and working sets measured at one rate only are left out.
/// </summary>
internal static class DowntimeChart
{
    public static void Save(IReadOnlyList<DowntimeCellResult> results, string path)
    {
        var idle = results.Where(r => r.Cell.Workload.Kind == DowntimeWorkloadKind.Idle).ToList();
        var lines = results
            .Where(r => r.Cell.Workload is { Kind: DowntimeWorkloadKind.Dirty, PagesPerSecond: > 0 })
            .GroupBy(r => (r.Cell.Memory, r.Cell.Workload.WorkingSetBytes, r.Network, r.Cell.Compress))
            .Select(g => (Key: g.Key, Points: idle
                .Where(i => i.Cell.Memory == g.Key.Memory && i.Network == g.Key.Network && i.Cell.Compress == g.Key.Compress)
                .Concat(g)
                .OrderBy(r => r.Cell.Workload.DirtyMegabytesPerSecond)
                .ToList()))
            // A working set measured at one rate is a single point beside idle, not a curve; the table has it, and
            // leaving it off keeps the legend readable.
            .Where(l => l.Points.Count(p => p.Cell.Workload.Kind == DowntimeWorkloadKind.Dirty) >= 2)
            .ToList();

        var chart = new Multiplot();
        chart.AddPlots(2);
        chart.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var downtime = chart.GetPlot(0);
        var total = chart.GetPlot(1);
        downtime.Title("Guest downtime (median)");
        total.Title("Total migration time (median)");
        foreach (var plot in new[] { downtime, total })
        {
            plot.XLabel("guest dirty rate, MB/s");
            plot.YLabel("ms");
        }

        var palette = new ScottPlot.Palettes.Category20();
        for (var i = 0; i < lines.Count; i++)
        {
            var (key, points) = lines[i];
            var xs = points.Select(p => p.Cell.Workload.DirtyMegabytesPerSecond).ToArray();
            var workingSet = string.Create(CultureInfo.InvariantCulture, $"{key.WorkingSetBytes >> 20} MiB");
            var label = $"{points[0].Cell.MemoryText}, working set {workingSet}, {key.Network}, compression {(key.Compress ? "on" : "off")}";
            foreach (var (plot, ys) in new[] { (downtime, points.Select(p => p.Downtime.Median).ToArray()), (total, points.Select(p => p.Total.Median).ToArray()) })
            {
                var line = plot.Add.Scatter(xs, ys, palette.GetColor(i));
                line.LineWidth = 2;
                line.MarkerSize = 7;
                line.LinePattern = key.Compress ? LinePattern.Dashed : LinePattern.Solid;
                line.LegendText = label;
            }
        }

        // From zero, with room above the lines for the legend.
        var maxX = Math.Max(1, lines.SelectMany(l => l.Points).Select(p => p.Cell.Workload.DirtyMegabytesPerSecond).DefaultIfEmpty(0).Max());
        foreach (var (plot, top) in new[] { (downtime, lines.SelectMany(l => l.Points).Select(p => p.Downtime.Median)), (total, lines.SelectMany(l => l.Points).Select(p => p.Total.Median)) })
        {
            plot.Axes.SetLimits(-maxX * 0.03, maxX * 1.05, 0, Math.Max(1, top.DefaultIfEmpty(0).Max()) * (1.15 + (0.06 * lines.Count)));
            plot.ShowLegend(Alignment.UpperLeft);
        }
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        chart.SavePng(path, 1600, 640);
    }
}
