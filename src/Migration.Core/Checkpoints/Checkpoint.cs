using System.Diagnostics;
using Migration.Core.Machines;
using Migration.Core.Pages;
using Migration.Core.State;
using Migration.Core.Streams;

namespace Migration.Core.Checkpoints;

/// <summary>
/// The library's checkpoint API: capture a machine to a stream, restore a machine's state from one. Files, chains
/// and crash-safe naming are <see cref="CheckpointDirectory"/> and <see cref="CheckpointFile"/>.
/// </summary>
public static class Checkpoint
{
    /// <summary>
    /// Captures the machine, pausing it for the capture if it runs and resuming it after. With a
    /// <paramref name="series"/> that can continue, only the pages dirtied since the series' last checkpoint are
    /// written (an incremental checkpoint); otherwise every page that may be non-zero is.
    /// </summary>
    /// <param name="stop">
    /// A checkpoint the machine ends with (as a save before a shutdown): it stays paused afterwards for the caller to
    /// dispose, and with a backend that preserves connections they are frozen into the file, so that a resume on this
    /// host while their peers wait finds them again. If the capture fails, the connections are put back and the
    /// machine runs on.
    /// </param>
    public static async Task<CheckpointResult> CaptureAsync(
        IVirtualMachine machine,
        Stream output,
        CheckpointSeries? series = null,
        PageCodecOptions? codec = null,
        bool stop = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(output);
        var started = Stopwatch.GetTimestamp();
        var wasRunning = machine.State == MachineRunState.Running;
        if (wasRunning)
        {
            await machine.PauseAsync(cancellationToken).ConfigureAwait(false);
        }

        var pausedAt = Stopwatch.GetTimestamp();
        var resume = wasRunning;
        var frozen = false;
        try
        {
            if (stop && machine.Sockets is { PreservesConnections: true } sockets)
            {
                // Not cancellable: a freeze stopped half-way would leave connections neither here nor in the file.
                await sockets.FreezeAsync(CancellationToken.None).ConfigureAwait(false);
                frozen = true;
            }

            var log = machine.Memory.DirtyLog;
            var incremental = series?.CanContinue(machine.Memory) == true;

            // Collecting starts the next increment even for a full checkpoint: after it, the log holds exactly what changes next.
            var dirty = log.CollectAndClear();
            var epoch = log.Epoch;
            var pages = incremental ? dirty : log.WrittenPages();
            var info = new CheckpointInfo
            {
                Sequence = incremental ? series!.LastSequence + 1 : 0,
                ParentDigest = incremental ? series!.LastDigest : null,
                CreatedUnixMilliseconds = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            };

            CaptureResult capture;
            try
            {
                capture = await MachineStateWriter.WriteAsync(machine, output, pages, [info.ToSection()], codec, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                series?.Break();
                throw;
            }

            series?.Record(info.Sequence, capture.Stream.Digest, epoch);
            resume = wasRunning && !stop;
            // A machine the caller had already paused loses no running time to the capture.
            var paused = wasRunning ? Stopwatch.GetElapsedTime(pausedAt) : TimeSpan.Zero;
            return new CheckpointResult(
                null, info.Sequence, info.ParentDigest, capture.Stream.Digest, capture.Stream.Bytes, capture.Pages, capture.Sockets, paused, Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            if (frozen && resume)
            {
                // The file was not written: the connections go back to this machine, which runs on.
                machine.Sockets!.Thaw();
            }

            if (resume)
            {
                machine.Resume();
            }
        }
    }

    /// <summary>
    /// Reads and verifies a full checkpoint into fresh memory. An incremental checkpoint needs its chain: restore it
    /// through <see cref="CheckpointFile.RestoreAsync"/>, which finds the parents beside it.
    /// </summary>
    public static async Task<RestoredMachineState> RestoreAsync(Stream input, StateReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var state = await MachineStateReader.ReadAsync(input, options, cancellationToken).ConfigureAwait(false);
        try
        {
            var info = ReadInfo(state);
            if (info.IsIncremental && options?.Target is null)
            {
                throw new CheckpointException(
                    $"incremental checkpoint (sequence {info.Sequence}) holds only the pages changed since its parent {info.ParentDigest:x16}: restore it from its file so the chain can be found");
            }

            return state;
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    internal static CheckpointInfo ReadInfo(RestoredMachineState state)
    {
        var section = state.FindSection(SectionNames.Checkpoint)
            ?? throw new MigrationStreamException($"the stream has no '{SectionNames.Checkpoint}' section: it is not a checkpoint", state.Header.Length);
        try
        {
            return CheckpointInfo.FromSection(section);
        }
        catch (StateSectionException e)
        {
            throw new MigrationStreamException(e.Message, state.Header.Length, e);
        }
    }
}
