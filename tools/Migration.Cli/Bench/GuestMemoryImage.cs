using System.Globalization;
using System.IO.Hashing;
using Migration.Core.Memory;

namespace Migration.Cli.Bench;

/// <summary>
/// A host file placed into guest RAM at an offset from its start, as QEMU's <c>-device loader,file=F,addr=A</c> places
/// one at a physical address: the peer comparison gives both machines byte-identical memory this way.
/// </summary>
internal sealed record GuestMemoryImage(string Path, ulong Offset, ulong Length)
{
    /// <summary>Kept clear at the bottom of RAM (the guest's own image, heap and stack) and at the top (its arguments).</summary>
    public const ulong Margin = CheckpointBenchmark.Reserved / 2;

    private const int ChunkBytes = 1 << 20;

    /// <summary>Parses <c>FILE@OFFSET</c> (OFFSET decimal or 0x-hex, default 0x1000000) and checks it fits a guest of <paramref name="memorySize"/>.</summary>
    public static GuestMemoryImage Parse(string text, ulong memorySize)
    {
        var at = text.LastIndexOf('@');
        var path = at < 0 ? text : text[..at];
        ulong offset = 0x100_0000;
        if (at >= 0)
        {
            var number = text[(at + 1)..];
            var parsed = number.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? ulong.TryParse(number.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out offset)
                : ulong.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out offset);
            if (!parsed)
            {
                throw new ArgumentException($"--load {text}: '{number}' is not an offset (decimal or 0x-hex)");
            }
        }

        if (path.Length == 0)
        {
            throw new ArgumentException($"--load {text}: no file named before '@'");
        }

        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new ArgumentException($"--load {path}: no such file");
        }

        var length = (ulong)info.Length;
        if (offset < Margin || offset % GuestMemory.PageSize != 0)
        {
            throw new ArgumentException($"--load {text}: offset 0x{offset:x} must be page-aligned and at least 0x{Margin:x} (below lies the guest's own image)");
        }

        if (memorySize < 2 * Margin || offset > memorySize - Margin || length > memorySize - Margin - offset)
        {
            throw new ArgumentException(
                $"--load {text}: {length:N0} bytes at offset 0x{offset:x} do not fit a {memorySize >> 20} MiB guest (the top 0x{Margin:x} bytes hold its arguments)");
        }

        return new GuestMemoryImage(path, offset, length);
    }

    /// <summary>Writes the file into <paramref name="memory"/> through <see cref="GuestMemory.Write"/>, so its pages are dirty as if the guest had written them.</summary>
    public void Load(GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        var buffer = GC.AllocateUninitializedArray<byte>(ChunkBytes);
        using var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        ulong done = 0;
        while (done < Length)
        {
            var read = file.Read(buffer, 0, (int)Math.Min(ChunkBytes, Length - done));
            if (read == 0)
            {
                throw new IOException($"{Path}: ended at byte {done:N0} of the {Length:N0} it had when the benchmark started");
            }

            memory.Write(memory.Base + Offset + done, buffer.AsSpan(0, read));
            done += (ulong)read;
        }
    }

    /// <summary>The digest of the file itself, comparable with <see cref="MemoryRegion.DigestIn"/>.</summary>
    public ulong DigestOfFile()
    {
        var hash = new XxHash3();
        using var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        var buffer = GC.AllocateUninitializedArray<byte>(ChunkBytes);
        ulong done = 0;
        while (done < Length)
        {
            var read = file.Read(buffer, 0, (int)Math.Min(ChunkBytes, Length - done));
            if (read == 0)
            {
                break;
            }

            hash.Append(buffer.AsSpan(0, read));
            done += (ulong)read;
        }

        return hash.GetCurrentHashAsUInt64();
    }
}
