using ELFSharp.ELF;
using ELFSharp.ELF.Sections;
using ELFSharp.ELF.Segments;

namespace Migration.Machine.RiscV.Loader;

/// <summary>
/// Reads 64-bit little-endian RISC-V executables with ELFSharp and refuses, before anything runs, every
/// file the machine could not load faithfully: truncated, wrong class/endianness/machine/type, a segment
/// outside guest RAM or overlapping another, an entry point outside the loaded code.
/// </summary>
public static class ElfLoader
{
    /// <summary>Guest executables are small; the bound keeps a hostile file from making the host read gigabytes.</summary>
    public const long MaxFileSize = 256L << 20;

    private const ushort MachineRiscV = 243;

    public static ElfImage Load(string path, ulong ramBase, ulong ramSize)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new ElfLoadException($"{path}: no such file");
            }

            if (info.Length > MaxFileSize)
            {
                throw new ElfLoadException($"{path}: {info.Length} bytes is larger than the {MaxFileSize >> 20} MiB limit for a guest executable");
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new ElfLoadException($"{path}: cannot read: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ElfLoadException($"{path}: cannot read: {e.Message}", e);
        }

        return Load(path, bytes, ramBase, ramSize) with { Name = Path.GetFileName(path) };
    }

    /// <summary>Validates an executable held in memory; <paramref name="name"/> starts every error message.</summary>
    public static ElfImage Load(string name, byte[] bytes, ulong ramBase, ulong ramSize)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        CheckHeader(name, bytes);

        IELF elf;
        try
        {
            if (!ELFReader.TryLoad(new MemoryStream(bytes, writable: false), shouldOwnStream: true, out elf))
            {
                throw new ElfLoadException($"{name}: not an ELF file");
            }
        }
        catch (Exception e) when (e is not ElfLoadException)
        {
            throw new ElfLoadException($"{name}: malformed ELF: {e.Message}", e);
        }

        using (elf)
        {
            try
            {
                return Validate(name, (ELF<ulong>)elf, bytes.LongLength, ramBase, ramSize);
            }
            catch (Exception e) when (e is not ElfLoadException)
            {
                throw new ElfLoadException($"{name}: malformed ELF: {e.Message}", e);
            }
        }
    }

    /// <summary>Identity checks on the raw header, so the common mistakes get precise messages instead of a parser exception.</summary>
    private static void CheckHeader(string name, byte[] bytes)
    {
        if (bytes.Length < 4 || bytes[0] != 0x7F || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
        {
            throw new ElfLoadException($"{name}: not an ELF file (bad magic)");
        }

        if (bytes.Length < 64)
        {
            throw new ElfLoadException($"{name}: truncated: {bytes.Length} bytes is shorter than an ELF64 header");
        }

        if (bytes[4] != 2)
        {
            throw new ElfLoadException($"{name}: ELF class {bytes[4]} is not ELF64 (the machine runs RV64 executables only)");
        }

        if (bytes[5] != 1)
        {
            throw new ElfLoadException($"{name}: not little-endian");
        }

        var type = BitConverter.ToUInt16(bytes, 16);
        if (type != 2)
        {
            throw new ElfLoadException($"{name}: ELF type {type} is not an executable (ET_EXEC)");
        }

        var machine = BitConverter.ToUInt16(bytes, 18);
        if (machine != MachineRiscV)
        {
            throw new ElfLoadException($"{name}: machine {machine} is not RISC-V ({MachineRiscV})");
        }

        // ELFSharp cannot open an executable without section headers, and the tohost symbol lives in them.
        if (BitConverter.ToUInt16(bytes, 60) == 0)
        {
            throw new ElfLoadException($"{name}: no section headers (stripped with --strip-sections?)");
        }

        var shoff = BitConverter.ToUInt64(bytes, 40);
        var shnum = BitConverter.ToUInt16(bytes, 60);
        if (shoff > (ulong)bytes.Length || (ulong)shnum * 64 > (ulong)bytes.Length - shoff)
        {
            throw new ElfLoadException($"{name}: truncated: section headers at offset {shoff} run past the end of the {bytes.Length}-byte file");
        }

        var phoff = BitConverter.ToUInt64(bytes, 32);
        var phentsize = BitConverter.ToUInt16(bytes, 54);
        var phnum = BitConverter.ToUInt16(bytes, 56);
        if (phentsize != 56 && phnum != 0)
        {
            throw new ElfLoadException($"{name}: program header entry size {phentsize} is not 56");
        }

        if (phnum == 0)
        {
            throw new ElfLoadException($"{name}: no program headers");
        }

        if (phoff > (ulong)bytes.Length || (ulong)phnum * 56 > (ulong)bytes.Length - phoff)
        {
            throw new ElfLoadException($"{name}: truncated: program headers at offset {phoff} run past the end of the {bytes.Length}-byte file");
        }
    }

    private static ElfImage Validate(string name, ELF<ulong> elf, long fileLength, ulong ramBase, ulong ramSize)
    {
        var ramEnd = ramBase + ramSize;
        var segments = new List<ElfSegment>();
        var index = 0;
        foreach (var segment in elf.Segments)
        {
            index++;
            if (segment.Type != SegmentType.Load || segment.Size == 0)
            {
                continue;
            }

            var address = segment.Address;
            var memorySize = segment.Size;
            if ((ulong)segment.FileSize > memorySize)
            {
                throw new ElfLoadException($"{name}: segment {index}: file size {segment.FileSize} exceeds memory size {memorySize}");
            }

            if ((ulong)segment.Offset > (ulong)fileLength || (ulong)segment.FileSize > (ulong)fileLength - (ulong)segment.Offset)
            {
                throw new ElfLoadException($"{name}: truncated: segment {index} needs bytes {segment.Offset}..{segment.Offset + segment.FileSize} of a {fileLength}-byte file");
            }

            if (address < ramBase || address > ramEnd || memorySize > ramEnd - address)
            {
                throw new ElfLoadException(
                    $"{name}: segment {index} at 0x{address:x} (+{memorySize} bytes) lies outside guest RAM 0x{ramBase:x}..0x{ramEnd:x}");
            }

            foreach (var other in segments)
            {
                if (address < other.Address + other.MemorySize && other.Address < address + memorySize)
                {
                    throw new ElfLoadException(
                        $"{name}: segment {index} at 0x{address:x} (+{memorySize} bytes) overlaps the segment at 0x{other.Address:x} (+{other.MemorySize} bytes)");
                }
            }

            segments.Add(new ElfSegment(address, segment.GetFileContents(), memorySize));
        }

        if (segments.Count == 0)
        {
            throw new ElfLoadException($"{name}: no loadable segments");
        }

        var entry = elf.EntryPoint;
        if (!segments.Any(s => entry >= s.Address && entry < s.Address + s.MemorySize) || (entry & 3) != 0)
        {
            throw new ElfLoadException($"{name}: entry point 0x{entry:x} is not an aligned address inside a loaded segment");
        }

        var toHost = FindSymbol(elf, "tohost");
        if (toHost is { } toHostAddress && (toHostAddress < ramBase || toHostAddress > ramEnd - 8))
        {
            throw new ElfLoadException($"{name}: the tohost symbol at 0x{toHostAddress:x} lies outside guest RAM 0x{ramBase:x}..0x{ramEnd:x}");
        }

        // HTIF's tohost is an aligned doubleword; holding every image to that lets a checkpoint reader refuse anything else.
        if (toHost is { } alignedAddress && (alignedAddress & 7) != 0)
        {
            throw new ElfLoadException($"{name}: the tohost symbol at 0x{alignedAddress:x} is not 8-byte aligned");
        }

        return new ElfImage(name, entry, segments, toHost);
    }

    private static ulong? FindSymbol(ELF<ulong> elf, string symbol)
    {
        if (!elf.TryGetSection(".symtab", out var section) || section is not SymbolTable<ulong> table)
        {
            return null;
        }

        foreach (var entry in table.Entries)
        {
            if (entry.Name == symbol)
            {
                return entry.Value;
            }
        }

        return null;
    }
}
