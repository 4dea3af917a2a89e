using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Migration.Cli.Bench;

/// <summary>Every measured run of <c>bench migrate</c>, with the medians the peer comparison reads.</summary>
/// <param name="StopAndCopyMilliseconds">The last round alone, sent with the vCPU paused: the source's side of the downtime, which is what QEMU's <c>downtime</c> counts.</param>
/// <param name="Verification">What was checked about the memory that arrived, in one line.</param>
internal sealed record MigrationBenchmarkResult(
    ulong MemorySize,
    GuestMemoryImage? Image,
    IReadOnlyList<double> TotalMilliseconds,
    IReadOnlyList<double> DowntimeMilliseconds,
    IReadOnlyList<double> StopAndCopyMilliseconds,
    IReadOnlyList<long> BytesSent,
    IReadOnlyList<double> CheckpointMilliseconds,
    IReadOnlyList<double> ResumeMilliseconds,
    long CheckpointFileBytes,
    string Verification)
{
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>Guest RAM (10^9 bytes) per second of <paramref name="milliseconds"/>: the same measure the script applies to QEMU.</summary>
    public double GuestGigabytesPerSecond(double milliseconds) => MemorySize / (milliseconds / 1e3) / 1e9;

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("memoryBytes", MemorySize);
            json.WriteString("loadedFile", Image?.Path);
            json.WriteNumber("loadedOffset", Image?.Offset ?? 0);
            json.WriteNumber("loadedBytes", Image?.Length ?? 0);
            json.WriteNumber("runs", TotalMilliseconds.Count);
            json.WriteStartObject("migration");
            json.WriteNumber("totalMs", Median(TotalMilliseconds));
            json.WriteNumber("downtimeMs", Median(DowntimeMilliseconds));
            json.WriteNumber("stopAndCopyMs", Median(StopAndCopyMilliseconds));
            json.WriteNumber("guestGBps", GuestGigabytesPerSecond(Median(TotalMilliseconds)));
            json.WriteNumber("streamBytes", BytesSent.Count == 0 ? 0 : BytesSent[^1]);
            Array(json, "totalMsRuns", TotalMilliseconds);
            Array(json, "downtimeMsRuns", DowntimeMilliseconds);
            Array(json, "stopAndCopyMsRuns", StopAndCopyMilliseconds);
            json.WriteEndObject();
            json.WriteStartObject("checkpoint");
            json.WriteNumber("saveMs", Median(CheckpointMilliseconds));
            json.WriteNumber("loadMs", Median(ResumeMilliseconds));
            json.WriteNumber("fileBytes", CheckpointFileBytes);
            Array(json, "saveMsRuns", CheckpointMilliseconds);
            Array(json, "loadMsRuns", ResumeMilliseconds);
            json.WriteEndObject();
            json.WriteString("verified", Verification);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var contents = Image is null ? "all zero" : $"{Image.Length:N0} bytes of {Image.Path} at offset 0x{Image.Offset:x}";
        var total = Median(TotalMilliseconds);
        var save = Median(CheckpointMilliseconds);
        var load = Median(ResumeMilliseconds);
        var text = new StringBuilder();
        text.AppendLine(c, $"{MemorySize >> 20} MiB guest, {contents}; median of {TotalMilliseconds.Count} runs");
        text.AppendLine(c, $"migration   total {total:F1} ms, downtime {Median(DowntimeMilliseconds):F2} ms (stop-and-copy round {Median(StopAndCopyMilliseconds):F2} ms), {GuestGigabytesPerSecond(total):F2} GB/s of guest RAM, {(BytesSent.Count == 0 ? 0 : BytesSent[^1]):N0} stream bytes");
        text.AppendLine(c, $"checkpoint  save {save:F1} ms ({GuestGigabytesPerSecond(save):F2} GB/s), resume {load:F1} ms ({GuestGigabytesPerSecond(load):F2} GB/s), file {CheckpointFileBytes:N0} bytes");
        text.AppendLine(c, $"verified    {Verification}");
        return text.ToString();
    }

    private static void Array(Utf8JsonWriter json, string name, IReadOnlyList<double> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteNumberValue(Math.Round(value, 3));
        }

        json.WriteEndArray();
    }
}
