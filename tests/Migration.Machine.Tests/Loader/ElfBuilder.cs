using System.Buffers.Binary;

namespace Migration.Machine.Tests.Loader;

/// <summary>Writes minimal ELF64 executables byte by byte, so tests can make exactly the malformed file they need.</summary>
internal sealed class ElfBuilder
{
    private const int HeaderSize = 64;
    private const int ProgramHeaderSize = 56;
    private const int SectionHeaderSize = 64;

    private static readonly byte[] SectionNames = "\0.shstrtab\0"u8.ToArray();

    private readonly List<(ulong Address, byte[] Data, ulong MemorySize)> _segments = [];

    public ulong Entry { get; set; } = 0x8000_0000;

    public byte Class { get; set; } = 2;

    public byte Encoding { get; set; } = 1;

    public ushort Type { get; set; } = 2;

    public ushort Machine { get; set; } = 243;

    public ElfBuilder Segment(ulong address, byte[] data, ulong? memorySize = null)
    {
        _segments.Add((address, data, memorySize ?? (ulong)data.Length));
        return this;
    }

    public byte[] Build()
    {
        var dataOffset = HeaderSize + (_segments.Count * ProgramHeaderSize);
        var stringsOffset = dataOffset + _segments.Sum(s => s.Data.Length);
        var sectionsOffset = (stringsOffset + SectionNames.Length + 7) & ~7;
        var total = sectionsOffset + (2 * SectionHeaderSize);
        var bytes = new byte[total];
        var span = bytes.AsSpan();
        "\u007fELF"u8.CopyTo(span);
        span[4] = Class;
        span[5] = Encoding;
        span[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(span[16..], Type);
        BinaryPrimitives.WriteUInt16LittleEndian(span[18..], Machine);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(span[24..], Entry);
        BinaryPrimitives.WriteUInt64LittleEndian(span[32..], HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[52..], HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[54..], ProgramHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[56..], (ushort)_segments.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(span[40..], (ulong)sectionsOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(span[58..], SectionHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[60..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(span[62..], 1);

        // A null section and the section-name table: the least a well-formed executable carries.
        SectionNames.CopyTo(span[stringsOffset..]);
        var shstrtab = span[(sectionsOffset + SectionHeaderSize)..];
        BinaryPrimitives.WriteUInt32LittleEndian(shstrtab, 1);        // name: ".shstrtab"
        BinaryPrimitives.WriteUInt32LittleEndian(shstrtab[4..], 3);   // SHT_STRTAB
        BinaryPrimitives.WriteUInt64LittleEndian(shstrtab[24..], (ulong)stringsOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(shstrtab[32..], (ulong)SectionNames.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(shstrtab[48..], 1);

        var offset = dataOffset;
        for (var i = 0; i < _segments.Count; i++)
        {
            var (address, data, memorySize) = _segments[i];
            var ph = span[(HeaderSize + (i * ProgramHeaderSize))..];
            BinaryPrimitives.WriteUInt32LittleEndian(ph, 1);          // PT_LOAD
            BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], 7);     // RWX
            BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], address);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], address);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], (ulong)data.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], memorySize);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 4096);
            data.CopyTo(span[offset..]);
            offset += data.Length;
        }

        return bytes;
    }
}
