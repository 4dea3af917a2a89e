using System.Buffers.Binary;
using Migration.Core.Pages;
using Migration.Core.State;

namespace Migration.Core.Streams;

/// <summary>
/// Constants and bounds of the migration stream, format version 1 (FORMAT.md beside this file is the byte-level
/// description). Every length a reader meets is checked against a bound here before anything is allocated.
/// </summary>
public static class StreamFormat
{
    /// <summary>"MIGRSTRM".</summary>
    public static ReadOnlySpan<byte> Magic => "MIGRSTRM"u8;

    public const ushort Version = 1;

    /// <summary>Magic, version, flags, kind length.</summary>
    public const int HeaderFixedSize = 13;

    public const int MaxMachineKindLength = 32;

    public const int ChecksumSize = 8;

    /// <summary>Type, frame version, flags, payload length.</summary>
    public const int FrameHeaderSize = 8;

    public const byte FrameVersion = 1;

    /// <summary>
    /// A section holds one structure (the CPU, one socket with its queues…); the largest is a UDP socket whose 256 queued
    /// datagrams may each be 64 KiB, 16 MiB in all, so 32 MiB bounds every section with room to spare.
    /// </summary>
    public const int MaxSectionLength = 32 << 20;

    public const int MaxPagesLength = PageBatchFormat.MaxEncodedLength;

    public const int RoundEndLength = 4;

    /// <summary>Frame count, byte count, digest.</summary>
    public const int EndLength = 24;

    /// <summary>Name length byte, name, section version.</summary>
    public const int SectionPrefixMax = 1 + StateSection.MaxNameLength + 2;

    public static int MaxPayloadLength(FrameType type) => type switch
    {
        FrameType.Section => MaxSectionLength,
        FrameType.Pages => MaxPagesLength,
        FrameType.RoundEnd => RoundEndLength,
        FrameType.End => EndLength,
        _ => -1,
    };

    public static int MinPayloadLength(FrameType type) => type switch
    {
        FrameType.Section => 1 + 1 + 2,
        FrameType.Pages => PageBatchFormat.MinEncodedLength,
        FrameType.RoundEnd => RoundEndLength,
        FrameType.End => EndLength,
        _ => int.MaxValue,
    };

    public static string Describe(FrameType type) => type switch
    {
        FrameType.Section => "section",
        FrameType.Pages => "pages",
        FrameType.RoundEnd => "round-end",
        FrameType.End => "end",
        _ => $"0x{(byte)type:x2}",
    };

    /// <summary>Section and machine-kind names: lower-case ASCII letters, digits, '-' and '_', so they print safely.</summary>
    public static bool IsValidName(ReadOnlySpan<byte> name, int maxLength)
    {
        if (name.IsEmpty || name.Length > maxLength)
        {
            return false;
        }

        foreach (var b in name)
        {
            if (!(b is >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_'))
            {
                return false;
            }
        }

        return true;
    }

    internal static void WriteFrameHeader(Span<byte> destination, FrameType type, int payloadLength)
    {
        destination[0] = (byte)type;
        destination[1] = FrameVersion;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)payloadLength);
    }
}
