using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Migration.Cli.Bench;

/// <summary>The downtime benchmark's results as a Markdown table for people and as JSON for machines.</summary>
internal static class DowntimeReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Markdown(IReadOnlyList<DowntimeCellResult> results, int runs)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant, $"Median (min–max) of {runs} run{(runs == 1 ? "" : "s")} per cell; times in ms, client = longest reply gap a client saw (— without clients).");
        text.AppendLine();
        text.AppendLine("| memory | workload | backend | compression | total ms | downtime ms | client ms | rounds | MB sent | GB/s |");
        text.AppendLine("|---|---|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            var client = r.Client is { } c ? Figure(c, "F1") : r.ClientLoad is null ? "—" : "— (reset)";
            var bytes = r.Bytes;
            text.AppendLine(Invariant,
                $"| {r.Cell.MemoryText} | {r.Cell.Workload.Name} | {r.Network} | {r.Cell.CompressionText} | {Figure(r.Total, "F1")} | {Figure(r.Downtime, "F1")} | {client} | {Figure(r.Rounds, "F0")} | {Figure(new Spread(bytes.Median / 1e6, bytes.Min / 1e6, bytes.Max / 1e6), "F1")} | {Figure(r.GigabytesPerSecond, "F2")} |");
        }

        var notes = results.Where(r => r.ClientNote is not null).ToList();
        if (notes.Count > 0)
        {
            text.AppendLine();
            foreach (var r in notes)
            {
                text.AppendLine(Invariant, $"- {r.Cell.MemoryText} {r.Cell.Workload.Name} {r.Network} compression {r.Cell.CompressionText}: {r.ClientNote}");
            }
        }

        var loads = results.Select(r => r.ClientLoad).OfType<string>().Distinct().ToList();
        if (loads.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(Invariant, $"kv ran under {string.Join("; ", loads)}, with a PING client beside it timing the replies.");
        }

        return text.ToString();
    }

    public static byte[] Json(IReadOnlyList<DowntimeCellResult> results, DowntimeSettings settings)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("benchmark", "downtime");
            json.WriteString("date", DateTimeOffset.UtcNow);
            json.WriteNumber("processors", Environment.ProcessorCount);
            json.WriteNumber("runsPerCell", settings.Runs);
            json.WriteString("gigabytesPerSecond", "guest memory bytes / total time, 10^9 bytes per second");
            json.WriteStartArray("cells");
            foreach (var r in results)
            {
                json.WriteStartObject();
                json.WriteNumber("memoryBytes", r.Cell.Memory);
                json.WriteString("workload", r.Cell.Workload.Name);
                json.WriteNumber("workingSetBytes", r.Cell.Workload.WorkingSetBytes);
                json.WriteNumber("dirtyPagesPerSecond", r.Cell.Workload.PagesPerSecond);
                json.WriteString("backend", r.Cell.Backend);
                json.WriteString("network", r.Network);
                json.WriteBoolean("compression", r.Cell.Compress);
                WriteSpread(json, "totalMilliseconds", r.Total);
                WriteSpread(json, "downtimeMilliseconds", r.Downtime);
                WriteSpread(json, "clientMilliseconds", r.Client);
                WriteSpread(json, "rounds", r.Rounds);
                WriteSpread(json, "bytesSent", r.Bytes);
                WriteSpread(json, "gigabytesPerSecond", r.GigabytesPerSecond);
                WriteNullable(json, "clientLoad", r.ClientLoad);
                WriteNullable(json, "clientNote", r.ClientNote);
                json.WriteStartArray("runs");
                foreach (var run in r.Runs)
                {
                    json.WriteStartObject();
                    json.WriteNumber("totalMilliseconds", run.TotalMilliseconds);
                    json.WriteNumber("downtimeMilliseconds", run.DowntimeMilliseconds);
                    if (run.ClientMilliseconds is { } client)
                    {
                        json.WriteNumber("clientMilliseconds", client);
                    }
                    else
                    {
                        json.WriteNull("clientMilliseconds");
                    }

                    json.WriteNumber("rounds", run.Rounds);
                    json.WriteNumber("bytesSent", run.BytesSent);
                    json.WriteNumber("gigabytesPerSecond", run.GigabytesPerSecond);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string Figure(Spread spread, string format) =>
        spread.Min.Equals(spread.Max)
            ? spread.Median.ToString(format, Invariant)
            : $"{spread.Median.ToString(format, Invariant)} ({spread.Min.ToString(format, Invariant)}–{spread.Max.ToString(format, Invariant)})";

    private static void WriteSpread(Utf8JsonWriter json, string name, Spread? spread)
    {
        if (spread is null)
        {
            json.WriteNull(name);
            return;
        }

        json.WriteStartObject(name);
        json.WriteNumber("median", spread.Median);
        json.WriteNumber("min", spread.Min);
        json.WriteNumber("max", spread.Max);
        json.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
