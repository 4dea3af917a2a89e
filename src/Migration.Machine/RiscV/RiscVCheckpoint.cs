using System.Diagnostics;
using Migration.Core.Checkpoints;
using Migration.Core.Sockets;
using Migration.Core.State;

namespace Migration.Machine.RiscV;

/// <summary>
/// Resuming the reference machine from a checkpoint: the stream is read and verified whole into fresh memory, then
/// the CPU, devices and socket table are applied. Taking a checkpoint is machine-independent: <see cref="Checkpoint"/>.
/// </summary>
public static class RiscVCheckpoint
{
    /// <summary>Resumes from a checkpoint file; an incremental file brings in its parents from the same directory.</summary>
    public static async Task<ResumedMachine> ResumeFileAsync(string path, MachineOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var started = Stopwatch.GetTimestamp();
        RestoredMachineState state;
        IReadOnlyList<string> chain;
        try
        {
            chain = await CheckpointFile.ResolveChainAsync(path, cancellationToken).ConfigureAwait(false);
            state = await CheckpointFile.RestoreChainAsync(chain, ReadOptions(options), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            options.Network?.Dispose();
            throw;
        }

        return Build(state, options, chain, started, path);
    }

    /// <summary>Resumes from a full checkpoint stream (library use: a stream that is not a file).</summary>
    public static async Task<ResumedMachine> RestoreAsync(Stream input, MachineOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var started = Stopwatch.GetTimestamp();
        RestoredMachineState state;
        try
        {
            state = await Checkpoint.RestoreAsync(input, ReadOptions(options), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            options.Network?.Dispose();
            throw;
        }

        return Build(state, options, [], started, "the stream");
    }

    private static StateReadOptions ReadOptions(MachineOptions options) =>
        new() { ExpectedKind = RiscVMachine.MachineKind, MemoryBacking = options.MemoryBacking };

    private static ResumedMachine Build(RestoredMachineState state, MachineOptions options, IReadOnlyList<string> chain, long started, string source)
    {
        using (state)
        {
            var info = CheckpointInfo.FromSection(state.FindSection(SectionNames.Checkpoint)!);
            var memory = state.TakeMemory();
            RiscVMachine machine;
            try
            {
                machine = RiscVMachine.Restore(memory, state.Sections, options with { MemorySize = memory.Size });
            }
            catch (Exception e)
            {
                memory.Dispose();
                options.Network?.Dispose();
                if (e is StateSectionException section)
                {
                    var at = section.Section is { } name && state.SectionOffsets.TryGetValue(name, out var offset) ? $" (at byte {offset})" : "";
                    throw new CheckpointException($"{source}: {e.Message}{at}", e);
                }

                throw;
            }

            try
            {
                var rebindings = machine.Sockets?.RestoreTable(state.Sockets) ?? [];
                return new ResumedMachine(machine, info, state.Summary.Digest, chain, state.Pages, rebindings, Stopwatch.GetElapsedTime(started));
            }
            catch (Exception e)
            {
                machine.Dispose();
                throw e is SocketTableException or SocketRebindException ? new CheckpointException($"{source}: {e.Message}", e) : e;
            }
        }
    }
}
