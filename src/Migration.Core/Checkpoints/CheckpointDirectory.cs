using System.Globalization;
using Migration.Core.Machines;
using Migration.Core.Pages;

namespace Migration.Core.Checkpoints;

/// <summary>
/// Checkpoint files in one directory, named <c>SEQUENCE-DIGEST.mck</c>. Each is written to a temporary name, flushed
/// to disk and renamed, and the directory is synced, so a crash at any point leaves under a final name either nothing
/// or a complete file.
/// </summary>
public sealed class CheckpointDirectory
{
    public const string Extension = ".mck";

    private const string TemporaryPrefix = ".checkpoint-";
    private const string TemporarySuffix = ".tmp";

    public CheckpointDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public static string FileName(int sequence, ulong digest) =>
        string.Create(CultureInfo.InvariantCulture, $"{sequence:D6}-{digest:x16}{Extension}");

    /// <summary>Checkpoint files (final names only), oldest sequence first.</summary>
    public IReadOnlyList<string> List() =>
        [.. Directory.EnumerateFiles(Path, "*" + Extension).Where(f => !System.IO.Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal)];

    /// <summary>Removes temporary files that a killed writer left behind; returns how many.</summary>
    public int RemoveTemporaryFiles()
    {
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(Path, TemporaryPrefix + "*" + TemporarySuffix))
        {
            File.Delete(file);
            removed++;
        }

        return removed;
    }

    /// <param name="stop">See <see cref="Checkpoint.CaptureAsync"/>: the machine ends with this checkpoint, paused, its connections in the file.</param>
    public async Task<CheckpointResult> WriteAsync(
        IVirtualMachine machine, CheckpointSeries? series = null, PageCodecOptions? codec = null, bool stop = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var temporary = System.IO.Path.Combine(Path, $"{TemporaryPrefix}{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            CheckpointResult result;
            var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            await using (file.ConfigureAwait(false))
            {
                var stream = new WritebackStream(file);
                result = await Checkpoint.CaptureAsync(machine, stream, series, codec, stop, cancellationToken).ConfigureAwait(false);
                stream.FlushToDisk();
            }

            var final = System.IO.Path.Combine(Path, FileName(result.Sequence, result.Digest));

            // rename(2) replaces atomically; an existing file of the same name has the same digest, hence the same bytes.
            File.Move(temporary, final, overwrite: true);
            DirectorySync.Flush(Path);
            return result with { Path = final };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            series?.Break();
            TryDelete(temporary);
            throw new CheckpointException($"checkpoint to {Path}: {e.Message}", e);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left for RemoveTemporaryFiles; the temporary name never passes for a checkpoint.
        }
    }
}
