using System.Buffers.Binary;
using System.IO.Hashing;
using Migration.Core.Pages;

namespace Migration.Core.Tests.Pages;

/// <summary>
/// Writes a batch straight from the documented layout, independently of the encoder, so tests can craft batches whose
/// checksum is right but whose fields are not.
/// </summary>
internal static class BatchBuilder
{
    public static byte[] Build(params (uint Page, int Kind, int Length, byte[] Payload)[] entries)
    {
        var n = entries.Length;
        var payload = entries.Sum(e => e.Payload.Length);
        var batch = new byte[12 + (6 * n) + payload + 8];
        "MPGB"u8.CopyTo(batch);
        batch[4] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(batch.AsSpan(6), (ushort)n);
        BinaryPrimitives.WriteUInt32LittleEndian(batch.AsSpan(8), (uint)payload);
        var at = 12 + (6 * n);
        for (var i = 0; i < n; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(batch.AsSpan(12 + (4 * i)), entries[i].Page);
            BinaryPrimitives.WriteUInt16LittleEndian(batch.AsSpan(12 + (4 * n) + (2 * i)), (ushort)((entries[i].Kind << 13) | entries[i].Length));
            entries[i].Payload.CopyTo(batch, at);
            at += entries[i].Payload.Length;
        }

        return Reseal(batch);
    }

    /// <summary>Recomputes the trailing checksum after a test has edited the batch.</summary>
    public static byte[] Reseal(byte[] batch)
    {
        var body = batch.AsSpan(0, batch.Length - 8);
        BinaryPrimitives.WriteUInt64LittleEndian(batch.AsSpan(batch.Length - 8), XxHash3.HashToUInt64(body));
        return batch;
    }

    public static (uint, int, int, byte[]) Zero(uint page) => (page, (int)PageKind.Zero, 0, []);

    public static (uint, int, int, byte[]) Raw(uint page, byte fill) => (page, (int)PageKind.Raw, 4096, Enumerable.Repeat(fill, 4096).ToArray());

    public static (uint, int, int, byte[]) Lz4(uint page, byte[] block) => (page, (int)PageKind.Lz4, block.Length, block);
}
