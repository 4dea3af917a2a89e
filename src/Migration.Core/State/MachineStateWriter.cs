using System.Diagnostics;
using Migration.Core.Machines;
using Migration.Core.Memory;
using Migration.Core.Pages;
using Migration.Core.Sockets;
using Migration.Core.Streams;

namespace Migration.Core.State;

/// <summary>
/// Writes a stopped machine as one complete stream: header, "machine", any leading sections, the pages given,
/// the machine's own sections (CPU, devices), the socket table, end frame. The pieces are public so that a live
/// migration, which writes several rounds of pages in between, lays out the same stream.
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
        var state = CaptureParkedState(machine);
        var writer = new MigrationStreamWriter(output, machine.Kind);
        await WritePreambleAsync(writer, machine, leadingSections, cancellationToken).ConfigureAwait(false);
        var stats = await WritePagesAsync(writer, machine.Memory, pages, codec, cancellationToken).ConfigureAwait(false);
        await writer.WriteRoundEndAsync(0, cancellationToken).ConfigureAwait(false);
        await WriteParkedStateAsync(writer, state, cancellationToken).ConfigureAwait(false);
        var summary = await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return new CaptureResult(summary, stats, state.Sockets.Count, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The machine's own sections and its socket table; the machine must be parked (paused or not started).</summary>
    public static ParkedMachineState CaptureParkedState(IVirtualMachine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var deviceSections = machine.CaptureDeviceState();
        var sockets = machine.Sockets?.CaptureTable() ?? [];
        foreach (var section in deviceSections)
        {
            if (SectionNames.IsCore(section.Name))
            {
                throw new InvalidOperationException($"the machine's section '{section.Name}' uses a name reserved for the common layer");
            }
        }

        return new ParkedMachineState(deviceSections, sockets);
    }

    /// <summary>Header, the "machine" section, then <paramref name="leadingSections"/>: everything before the first page.</summary>
    public static async ValueTask WritePreambleAsync(
        MigrationStreamWriter writer, IVirtualMachine machine, IReadOnlyList<StateSection> leadingSections, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(leadingSections);
        await writer.WriteHeaderAsync(cancellationToken).ConfigureAwait(false);
        await writer.WriteSectionAsync(MachineDescriptor.Describe(machine.Kind, machine.Memory).ToSection(), cancellationToken).ConfigureAwait(false);
        foreach (var section in leadingSections)
        {
            await writer.WriteSectionAsync(section, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One round's pages as page frames, encoded ahead of the writes; the round-end is the caller's.</summary>
    public static async ValueTask<PageBatchStats> WritePagesAsync(
        MigrationStreamWriter writer, GuestMemory memory, IEnumerable<int> pages, PageCodecOptions? codec = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var stats = default(PageBatchStats);
        await foreach (var batch in PageCodec.EncodeAsync(memory, pages, codec, cancellationToken).ConfigureAwait(false))
        {
            using (batch)
            {
                stats = stats.Add(batch.Stats);
                await writer.WritePagesAsync(batch.Memory, cancellationToken).ConfigureAwait(false);
            }
        }

        return stats;
    }

    /// <summary>The machine's own sections, then the socket table: what follows the last round-end.</summary>
    public static async ValueTask WriteParkedStateAsync(MigrationStreamWriter writer, ParkedMachineState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(state);
        foreach (var section in state.DeviceSections)
        {
            await writer.WriteSectionAsync(section, cancellationToken).ConfigureAwait(false);
        }

        await writer.WriteSectionAsync(SectionCodec.Encode(SectionNames.Sockets, SocketTableInfo.SectionVersion, new SocketTableInfo { Count = state.Sockets.Count }), cancellationToken).ConfigureAwait(false);
        foreach (var socket in state.Sockets)
        {
            await writer.WriteSectionAsync(SectionCodec.Encode(SectionNames.Socket, VirtualSocket.FormatVersion, socket), cancellationToken).ConfigureAwait(false);
        }
    }
}
