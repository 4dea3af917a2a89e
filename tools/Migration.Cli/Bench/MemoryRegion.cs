using System.IO.Hashing;
using Migration.Core.Memory;

namespace Migration.Cli.Bench;

/// <summary>The part of guest RAM a benchmark compares before and after: where the loaded file lies, or the whole free middle.</summary>
internal readonly record struct MemoryRegion(ulong Offset, ulong Length)
{
    private const int ChunkBytes = 1 << 20;

    public static MemoryRegion For(GuestMemoryImage? image, ulong memorySize) =>
        image is null
            ? new MemoryRegion(GuestMemoryImage.Margin, memorySize - (2 * GuestMemoryImage.Margin))
            : new MemoryRegion(image.Offset, image.Length);

    public ulong DigestIn(GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        var hash = new XxHash3();
        var buffer = GC.AllocateUninitializedArray<byte>(ChunkBytes);
        for (ulong done = 0; done < Length; done += ChunkBytes)
        {
            var chunk = buffer.AsSpan(0, (int)Math.Min(ChunkBytes, Length - done));
            memory.Read(memory.Base + Offset + done, chunk);
            hash.Append(chunk);
        }

        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>What <see cref="DigestIn"/> gives for a region that holds only zeros.</summary>
    public ulong ZeroDigest()
    {
        var hash = new XxHash3();
        var zeros = new byte[ChunkBytes];
        for (ulong done = 0; done < Length; done += ChunkBytes)
        {
            hash.Append(zeros.AsSpan(0, (int)Math.Min(ChunkBytes, Length - done)));
        }

        return hash.GetCurrentHashAsUInt64();
    }
}
