using Migration.Core.Pages;
using Migration.Core.Sockets;
using Migration.Core.State;
using Migration.Core.Streams;

namespace Migration.Core.Checkpoints;

/// <summary>
/// Reads a checkpoint file the way a resume would — every length, checksum and section checked — but keeps only a
/// description: sections, page counts by kind, the socket table. What <c>crit</c> is to CRIU images.
/// </summary>
public static class CheckpointInspector
{
    public static async Task<CheckpointInspection> InspectAsync(string path, CancellationToken cancellationToken = default)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                return await InspectAsync(path, stream, cancellationToken).ConfigureAwait(false);
            }
            catch (MigrationStreamException e)
            {
                throw new CheckpointException($"{path}: {e.Message}", e);
            }
        }
    }

    private static async Task<CheckpointInspection> InspectAsync(string path, FileStream stream, CancellationToken cancellationToken)
    {
        var reader = new MigrationStreamReader(stream, requireEndOfInput: true);
        var header = await reader.ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
        MachineDescriptor? machine = null;
        CheckpointInfo? checkpoint = null;
        var sections = new List<InspectedSection>();
        var sockets = new List<VirtualSocket>();
        var pages = default(PageBatchStats);
        var rounds = 0;
        while (await reader.ReadFrameAsync(cancellationToken).ConfigureAwait(false) is { } frame)
        {
            using (frame)
            {
                switch (frame.Type)
                {
                    case FrameType.Pages when machine is null:
                        throw new MigrationStreamException("pages before the machine section", frame.Offset);
                    case FrameType.Pages:
                        pages = pages.Add(ParseBatch(frame, machine.MemorySize));
                        break;
                    case FrameType.RoundEnd:
                        rounds++;
                        break;
                    default:
                        var section = frame.ToSection();
                        sections.Add(new InspectedSection(section.Name, section.Version, section.Body.Length, frame.Offset));
                        try
                        {
                            switch (section.Name)
                            {
                                case SectionNames.Machine:
                                    machine = MachineDescriptor.FromSection(section, header.MachineKind);
                                    break;
                                case SectionNames.Checkpoint:
                                    checkpoint = CheckpointInfo.FromSection(section);
                                    break;
                                case SectionNames.Socket:
                                    sockets.Add(SectionCodec.Decode<VirtualSocket>(section, VirtualSocket.FormatVersion));
                                    break;
                            }
                        }
                        catch (StateSectionException e)
                        {
                            throw new MigrationStreamException(e.Message, frame.Offset, e);
                        }

                        break;
                }
            }
        }

        if (machine is null || checkpoint is null)
        {
            throw new MigrationStreamException($"a checkpoint needs a '{SectionNames.Machine}' and a '{SectionNames.Checkpoint}' section", header.Length);
        }

        return new CheckpointInspection(
            System.IO.Path.GetFullPath(path), stream.Length, header, machine, checkpoint, sections, pages, rounds, sockets, reader.Summary!.Value);
    }

    private static PageBatchStats ParseBatch(StreamFrame frame, ulong memorySize)
    {
        try
        {
            return PageBatchView.Parse(frame.Payload.Span, (int)(memorySize / (ulong)Memory.GuestMemory.PageSize)).Stats;
        }
        catch (PageBatchException e)
        {
            throw new MigrationStreamException($"page batch: {e.Problem}", frame.PayloadOffset + e.Offset, e);
        }
    }
}
