using System.Globalization;

namespace Migration.Cli.Bench;

/// <summary>One cell of the downtime matrix: a guest of this size, doing this, on this backend, with or without compression.</summary>
/// <param name="Backend">The backend asked for (auto, repair, relay, plain).</param>
internal sealed record DowntimeCell(ulong Memory, DowntimeWorkload Workload, string Backend, bool Compress)
{
    public string MemoryText => Memory % (1UL << 30) == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{Memory >> 30} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{Memory >> 20} MiB");

    public string CompressionText => Compress ? "on" : "off";

    public override string ToString() => $"{MemoryText} {Workload.Name} {Backend} compression {CompressionText}";
}
