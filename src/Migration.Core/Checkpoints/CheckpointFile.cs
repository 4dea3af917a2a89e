using Migration.Core.State;
using Migration.Core.Streams;

namespace Migration.Core.Checkpoints;

/// <summary>
/// Reads checkpoint files: one full file, or an incremental file with the chain of parents it names, found beside it
/// by digest. Nothing is written; a failure leaves every file as it was and returns no state.
/// </summary>
public static class CheckpointFile
{
    /// <summary>Chains are walked parent by parent; a bound keeps a crafted file from sending the walk on forever.</summary>
    public const int MaxChainLength = 100_000;

    /// <summary>The chain ending at <paramref name="path"/>, full checkpoint first.</summary>
    public static async Task<IReadOnlyList<string>> ResolveChainAsync(string path, CancellationToken cancellationToken = default)
    {
        var chain = new List<string> { Path.GetFullPath(path) };
        var info = await ReadInfoAsync(chain[0], cancellationToken).ConfigureAwait(false);
        while (info.ParentDigest is { } parentDigest)
        {
            var child = chain[0];
            var directory = Path.GetDirectoryName(child)!;
            var parentName = $"*-{parentDigest:x16}{CheckpointDirectory.Extension}";
            var parent = Directory.EnumerateFiles(directory, parentName).Order(StringComparer.Ordinal).FirstOrDefault()
                ?? throw new CheckpointException($"{child}: its parent checkpoint {parentDigest:x16} (sequence {info.Sequence - 1}) is missing from {directory}");
            var parentInfo = await ReadInfoAsync(parent, cancellationToken).ConfigureAwait(false);
            if (parentInfo.Sequence != info.Sequence - 1)
            {
                throw new CheckpointException($"{parent}: wrong parent for {Path.GetFileName(child)}: it is sequence {parentInfo.Sequence}, the child needs {info.Sequence - 1}");
            }

            if (chain.Count >= MaxChainLength)
            {
                throw new CheckpointException($"{path}: the chain is longer than {MaxChainLength} checkpoints");
            }

            chain.Insert(0, parent);
            info = parentInfo;
        }

        return chain;
    }

    /// <summary>Reads the chain ending at <paramref name="path"/> into fresh memory, verifying every file and every parent link.</summary>
    public static async Task<RestoredMachineState> RestoreAsync(string path, StateReadOptions? options = null, CancellationToken cancellationToken = default) =>
        await RestoreChainAsync(await ResolveChainAsync(path, cancellationToken).ConfigureAwait(false), options, cancellationToken).ConfigureAwait(false);

    /// <summary>Reads a chain <see cref="ResolveChainAsync"/> returned, full checkpoint first, checking every parent link.</summary>
    public static async Task<RestoredMachineState> RestoreChainAsync(IReadOnlyList<string> chain, StateReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentOutOfRangeException.ThrowIfZero(chain.Count);
        options ??= StateReadOptions.Default;
        RestoredMachineState? state = null;
        try
        {
            foreach (var file in chain)
            {
                var next = await ReadOneAsync(file, state, options, cancellationToken).ConfigureAwait(false);
                if (state is not null)
                {
                    next = next.Inherit(state);
                    state.Dispose();
                }

                state = next;
            }

            return state!;
        }
        catch
        {
            state?.Dispose();
            throw;
        }
    }

    /// <summary>The checkpoint section of a file: read from its first frames without reading the pages.</summary>
    public static async Task<CheckpointInfo> ReadInfoAsync(string path, CancellationToken cancellationToken = default)
    {
        var stream = Open(path);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                var reader = new MigrationStreamReader(stream);
                var header = await reader.ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < 2; i++)
                {
                    using var frame = await reader.ReadFrameAsync(cancellationToken).ConfigureAwait(false)
                        ?? throw new MigrationStreamException("the stream ends before the checkpoint section", reader.Offset);
                    if (frame.Type != FrameType.Section)
                    {
                        break;
                    }

                    var section = frame.ToSection();
                    if (section.Name == SectionNames.Checkpoint)
                    {
                        try
                        {
                            return CheckpointInfo.FromSection(section);
                        }
                        catch (StateSectionException e)
                        {
                            throw new MigrationStreamException(e.Message, frame.Offset, e);
                        }
                    }
                }

                throw new MigrationStreamException($"no '{SectionNames.Checkpoint}' section after the machine section: not a checkpoint", header.Length);
            }
            catch (MigrationStreamException e)
            {
                throw new CheckpointException($"{path}: {e.Message}", e);
            }
        }
    }

    private static async Task<RestoredMachineState> ReadOneAsync(string file, RestoredMachineState? parent, StateReadOptions options, CancellationToken cancellationToken)
    {
        var stream = Open(file);
        await using (stream.ConfigureAwait(false))
        {
            RestoredMachineState? state = null;
            try
            {
                state = await MachineStateReader.ReadAsync(
                    stream,
                    new StateReadOptions
                    {
                        ExpectedKind = options.ExpectedKind,
                        MemoryBacking = options.MemoryBacking,
                        DecodeParallelism = options.DecodeParallelism,
                        RequireEndOfInput = true,
                        Target = parent?.Memory,
                    },
                    cancellationToken).ConfigureAwait(false);
                var info = Checkpoint.ReadInfo(state);
                if (parent is null && info.IsIncremental)
                {
                    throw new CheckpointException($"{file}: an incremental checkpoint cannot start a chain");
                }

                if (parent is not null && info.ParentDigest != parent.Summary.Digest)
                {
                    throw new CheckpointException(
                        $"{file}: wrong parent: it was taken after checkpoint {info.ParentDigest:x16}, but the parent file found holds {parent.Summary.DigestText}");
                }

                return state;
            }
            catch (MigrationStreamException e)
            {
                state?.Dispose();
                throw new CheckpointException($"{file}: {e.Message}", e);
            }
            catch
            {
                state?.Dispose();
                throw;
            }
        }
    }

    private static FileStream Open(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"{path}: {e.Message}", e);
        }
    }
}
