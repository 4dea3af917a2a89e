using System.ComponentModel;
using System.Diagnostics;
using Migration.Core.Memory;

namespace Migration.Cli.Bench;

/// <summary>
/// Measures what the host itself can do with N bytes — write and fsync a file, copy and fsync one, read one back from
/// the page cache, copy memory — with the same tools a person would use, so checkpoint figures can be read against
/// them from the same run on the same disk.
/// </summary>
internal static class PhysicalLimits
{
    // The source file goes out in dd's block size (bs=4M below).
    private const int BlockBytes = 4 << 20;

    // Spans stop just short of 2 GiB; larger copies go in pieces.
    private const int MemcpyChunkBytes = 1 << 30;

    /// <summary>
    /// Runs each measurement <paramref name="repetitions"/> times and reports the medians. Works in a fresh
    /// subdirectory of <paramref name="directory"/>, which it removes again whether or not a step fails; a tool that
    /// fails (e.g. the disk is full) surfaces as an <see cref="IOException"/> with its one-line complaint.
    /// </summary>
    public static PhysicalLimitsResult Measure(long bytes, string directory, int repetitions = 3)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repetitions);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"{directory}: no such directory");
        }

        // Memory first, its buffers released again, before the files below take up memory in the page cache.
        var memcpy = MeasureMemcpy(bytes, repetitions);

        var work = Directory.CreateDirectory(Path.Combine(directory, $"migration-limits-{Guid.NewGuid():N}")).FullName;
        try
        {
            var source = Path.Combine(work, "source");
            var written = Path.Combine(work, "written");
            var copy = Path.Combine(work, "copy");
            WriteRandomFile(source, bytes);

            var write = new double[repetitions];
            var copied = new double[repetitions];
            var read = new double[repetitions];
            for (var i = 0; i < repetitions; i++)
            {
                // Deleted outside the timing: dd and cp would otherwise free the previous round's blocks inside it.
                File.Delete(written);
                write[i] = Time(() => Run("dd", $"if={source}", $"of={written}", "bs=4M", "conv=fsync", "status=none"));

                File.Delete(copy);
                // --reflink=never: cp 9 clones by default where the file system can, which copies no data at all.
                copied[i] = Time(() =>
                {
                    Run("cp", "--reflink=never", source, copy);
                    Fsync(copy);
                });

                read[i] = Time(() => Run("dd", $"if={written}", "of=/dev/null", "bs=4M", "status=none"));
            }

            return new PhysicalLimitsResult(
                bytes,
                repetitions,
                Throughput.From(bytes, Median(write)),
                Throughput.From(bytes, Median(copied)),
                Throughput.From(bytes, Median(read)),
                Throughput.From(bytes, Median(memcpy)));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    // The source is random so that no layer below (compressing file systems, deduplicating storage) can shortcut the
    // writes, and it is flushed before any timing starts so its own write-back does not compete with them.
    private static void WriteRandomFile(string path, long bytes)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(BlockBytes);
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
        for (long offset = 0; offset < bytes; offset += BlockBytes)
        {
            var chunk = buffer.AsSpan(0, (int)Math.Min(BlockBytes, bytes - offset));
            Random.Shared.NextBytes(chunk);
            stream.Write(chunk);
        }

        stream.Flush(flushToDisk: true);
    }

    private static void Fsync(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        stream.Flush(flushToDisk: true);
    }

    private static double[] MeasureMemcpy(long bytes, int repetitions)
    {
        // Both buffers are guest-memory blocks: anonymous mappings advised for huge pages like guest RAM, which is
        // what a checkpoint copies from. Managed arrays would get 4 KiB pages, which on these hosts take seconds per
        // GiB to fault in before the first copy could even start.
        var size = Math.Max(GuestMemory.MinimumSize, ((ulong)bytes + GuestMemory.PageSize - 1) & ~(ulong)(GuestMemory.PageSize - 1));
        using var source = new GuestMemory(size);
        using var destination = new GuestMemory(size);
        // Touched first, so the figure is the copy and not the kernel handing out pages.
        for (long offset = 0; offset < bytes; offset += MemcpyChunkBytes)
        {
            Chunk(source, bytes, offset).Fill(0x5A);
            Chunk(destination, bytes, offset).Clear();
        }

        var seconds = new double[repetitions];
        for (var i = 0; i < repetitions; i++)
        {
            var start = Stopwatch.GetTimestamp();
            for (long offset = 0; offset < bytes; offset += MemcpyChunkBytes)
            {
                Chunk(source, bytes, offset).CopyTo(Chunk(destination, bytes, offset));
            }

            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        return seconds;
    }

    private static Span<byte> Chunk(GuestMemory memory, long bytes, long offset)
    {
        memory.TryGetSpan(memory.Base + (ulong)offset, (ulong)Math.Min(MemcpyChunkBytes, bytes - offset), out var span);
        return span;
    }

    // Wall time of the whole step, process start included: a few milliseconds, small against the transfers this is
    // meant for (hundreds of MiB and up), and what a person timing the command would see too.
    private static double Time(Action step)
    {
        var start = Stopwatch.GetTimestamp();
        step();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static void Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception e)
        {
            throw new IOException($"cannot run {program}: {e.Message}", e);
        }

        using (process ?? throw new IOException($"cannot run {program}"))
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            _ = stdout.GetAwaiter().GetResult();
            var complaint = FirstLine(stderr.GetAwaiter().GetResult());
            if (process.ExitCode != 0)
            {
                throw new IOException(
                    $"{program} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}{(complaint.Length > 0 ? ": " + complaint : "")}");
            }
        }
    }

    private static string FirstLine(string text)
    {
        var trimmed = text.Trim();
        var newline = trimmed.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? trimmed : trimmed[..newline].TrimEnd();
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
