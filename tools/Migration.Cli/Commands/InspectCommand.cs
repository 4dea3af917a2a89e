using System.CommandLine;
using System.Globalization;
using Migration.Core.Checkpoints;
using Migration.Core.Sockets;

namespace Migration.Cli.Commands;

/// <summary><c>migration inspect FILE</c>: verifies a checkpoint file and prints what it holds.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "checkpoint file (.mck)" };
        var command = new Command("inspect", "Verify a checkpoint file and print its sections, page counts by kind and socket table") { file };
        command.SetAction((parse, token) => RunAsync(parse.GetValue(file)!, token));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo file, CancellationToken cancellationToken)
    {
        CheckpointInspection inspection;
        try
        {
            inspection = await CheckpointInspector.InspectAsync(file.FullName, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"migration: {e.Message}");
            return 1;
        }

        Console.Out.Write(Format(inspection));
        return 0;
    }

    internal static string Format(CheckpointInspection i)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new System.Text.StringBuilder();
        var info = i.Checkpoint;
        text.AppendLine(c, $"file        {i.Path} ({i.FileBytes:N0} bytes)");
        text.AppendLine(c, $"verified    digest {i.Summary.DigestText}, {i.Summary.Frames} frames, every checksum matches");
        text.AppendLine(c, $"machine     {i.Machine.Kind}, {Size(i.Machine.MemorySize)} at 0x{i.Machine.MemoryBase:x}, {i.Machine.PageSize}-byte pages (stream format v{i.Header.FormatVersion})");
        text.AppendLine(c, $"checkpoint  sequence {info.Sequence}, {(info.ParentDigest is { } parent ? $"incremental on parent {parent:x16}" : "full")}, taken {DateTimeOffset.FromUnixTimeMilliseconds(info.CreatedUnixMilliseconds):u}");
        var p = i.Pages;
        text.AppendLine(c, $"pages       {p.Pages:N0} in {p.Batches:N0} batches: {p.ZeroPages:N0} zero, {p.RawPages:N0} raw, {p.Lz4Pages:N0} lz4; {p.EncodedBytes:N0} bytes for {p.InputBytes:N0}");
        text.AppendLine();
        text.AppendLine("section       version      bytes     offset");
        foreach (var s in i.Sections)
        {
            text.AppendLine(c, $"{s.Name,-12} {s.Version,8} {s.BodyBytes,10:N0} {s.Offset,10:N0}");
        }

        text.AppendLine();
        text.AppendLine(c, $"sockets ({i.Sockets.Count})");
        if (i.Sockets.Count > 0)
        {
            text.AppendLine("  id proto status       local                  remote                 host                   send   recv  conn dgrams");
            foreach (var s in i.Sockets)
            {
                text.AppendLine(c,
                    $"{s.Id,4} {Protocol(s),-5} {s.Status,-12} {Endpoint(s.LocalAddress),-22} {Endpoint(s.RemoteAddress),-22} {s.HostEndpoint ?? "-",-22} {s.SendQueue.Count,6} {s.ReceiveQueue.Count,6} {s.ConnectionQueue.Count,5} {s.DatagramQueue.Count,6}");
            }
        }

        return text.ToString();
    }

    private static string Protocol(VirtualSocket s) => s.Protocol == VirtualSocketProtocol.Tcp ? "tcp" : "udp";

    private static string Endpoint(GuestEndpoint? e) => e?.ToString() ?? "-";

    private static string Size(ulong bytes) => bytes >= 1UL << 30 && bytes % (1UL << 30) == 0
        ? $"{bytes >> 30} GiB"
        : $"{bytes >> 20} MiB";
}
