using System.Buffers.Binary;
using Migration.Core.Streams;

namespace Migration.Core.Tests.Fuzz;

/// <summary>Where the frames of a valid stream start, so a mutation can aim at a frame header.</summary>
public static class StreamLayout
{
    public static IReadOnlyList<int> FrameOffsets(byte[] valid)
    {
        var offsets = new List<int>();
        var at = StreamFormat.HeaderFixedSize + valid[StreamFormat.HeaderFixedSize - 1] + StreamFormat.ChecksumSize;
        while (at + StreamFormat.FrameHeaderSize <= valid.Length)
        {
            offsets.Add(at);
            at += StreamFormat.FrameHeaderSize + (int)BinaryPrimitives.ReadUInt32LittleEndian(valid.AsSpan(at + 4)) + StreamFormat.ChecksumSize;
        }

        return offsets;
    }
}
