using System.Diagnostics;
using Migration.Core.Machines;
using Migration.Core.Pages;
using Migration.Core.Sockets;
using Migration.Core.Streams;

namespace Migration.Core.State;

/// <summary>
/// Writes a stopped machine as one complete stream: header, "machine", any leading sections, the pages given,
/// the machine's own sections (CPU, devices), the socket table, end frame.
/// </summary>
/// <remarks>
/// Pages come before the CPU and socket state, the order a live migration's stop-and-copy uses, so a reader has the
/// memory in place before the sections that point into it.
/// </remarks>
public static class MachineStateWriter
{
    public static async Task<CaptureResult> WriteAsync(
        IVirtualMachine machine,
        Stream output,
        IEnumerable<int> pages,
        IReadOnlyList<StateSection> leadingSections,
        PageCodecOptions? codec = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(pages);
        ArgumentNullException.ThrowIfNull(leadingSections);
        if (machine.State == MachineRunState.Running)
        {
            throw new InvalidOperationException("pause the machine before capturing its state");
        }

        var started = Stopwatch.GetTimestamp();

        // Sections first, while nothing has been written: a machine that cannot describe itself leaves no partial stream.
        var deviceSections = machine.CaptureDeviceState();
        var sockets = machine.Sockets?.CaptureTable() ?? [];
        foreach (var section in deviceSections)
        {
            if (SectionNames.IsCore(section.Name))
            {
                throw new InvalidOperationException($"the machine's section '{section.Name}' uses a name reserved for the common layer");
            }
        }

        var writer = new MigrationStreamWriter(output, machine.Kind);
        await writer.WriteHeaderAsync(cancellationToken).ConfigureAwait(false);
        await writer.WriteSectionAsync(MachineDescriptor.Describe(machine.Kind, machine.Memory).ToSection(), cancellationToken).ConfigureAwait(false);
        foreach (var section in leadingSections)
        {
            await writer.WriteSectionAsync(section, cancellationToken).ConfigureAwait(false);
        }

        var stats = default(PageBatchStats);
        await foreach (var batch in PageCodec.EncodeAsync(machine.Memory, pages, codec, cancellationToken).ConfigureAwait(false))
        {
            using (batch)
            {
                stats = stats.Add(batch.Stats);
                await writer.WritePagesAsync(batch.Memory, cancellationToken).ConfigureAwait(false);
            }
        }

        await writer.WriteRoundEndAsync(0, cancellationToken).ConfigureAwait(false);
        foreach (var section in deviceSections)
        {
            await writer.WriteSectionAsync(section, cancellationToken).ConfigureAwait(false);
        }

        await writer.WriteSectionAsync(SectionCodec.Encode(SectionNames.Sockets, SocketTableInfo.SectionVersion, new SocketTableInfo { Count = sockets.Count }), cancellationToken).ConfigureAwait(false);
        foreach (var socket in sockets)
        {
            await writer.WriteSectionAsync(SectionCodec.Encode(SectionNames.Socket, VirtualSocket.FormatVersion, socket), cancellationToken).ConfigureAwait(false);
        }

        var summary = await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return new CaptureResult(summary, stats, sockets.Count, Stopwatch.GetElapsedTime(started));
    }
}
