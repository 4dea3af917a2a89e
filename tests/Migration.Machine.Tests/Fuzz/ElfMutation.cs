using System.Buffers.Binary;
using CsCheck;

namespace Migration.Machine.Tests.Fuzz;

/// <summary>
/// One change to a valid ELF, printed in full on failure so it can be kept as a fact. <see cref="Position"/> is reduced
/// modulo the file's length (or, for <see cref="Field"/>, the header area where offsets, sizes and counts live).
/// </summary>
public sealed record ElfMutation(string Kind, int Position, ulong Value, byte[] Run)
{
    public const string FlipBit = "flip-bit", Truncate = "truncate", OverwriteRun = "overwrite-run", Field = "field";

    /// <summary>The ELF header and the program headers that follow it in the committed guests.</summary>
    private const int HeaderArea = 0x200;

    /// <summary>Values a forged offset, size, address or count gets: edges, wrap-arounds and sizes far past the file.</summary>
    private static readonly ulong[] HostileValues =
        [0, 1, 0x40, 0x8000_0000, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x1_0000_0000, long.MaxValue, 0x8000_0000_0000_0000, ulong.MaxValue, ulong.MaxValue - 0xFFF];

    public static Gen<ElfMutation> Gen { get; } = CsCheck.Gen.OneOf(
        CsCheck.Gen.Int[0, int.MaxValue].Select(CsCheck.Gen.Int[0, 7], (p, bit) => new ElfMutation(FlipBit, p, (ulong)bit, [])),
        CsCheck.Gen.Int[0, int.MaxValue].Select(p => new ElfMutation(Truncate, p, 0, [])),
        CsCheck.Gen.Int[0, int.MaxValue].Select(CsCheck.Gen.Byte.Array[1, 32], (p, run) => new ElfMutation(OverwriteRun, p, 0, run)),
        CsCheck.Gen.Int[0, int.MaxValue].Select(CsCheck.Gen.Int[0, HostileValues.Length], CsCheck.Gen.ULong, CsCheck.Gen.Int[0, 3], (p, i, any, width) =>
            new ElfMutation(Field, p, i < HostileValues.Length ? HostileValues[i] : any, [(byte)(1 << width)])));

    public byte[] ApplyTo(byte[] valid)
    {
        var copy = (byte[])valid.Clone();
        var at = Position % valid.Length;
        switch (Kind)
        {
            case FlipBit:
                copy[at] ^= (byte)(1 << (int)(Value % 8));
                return copy;
            case Truncate:
                return copy[..at];
            case OverwriteRun:
                Run.AsSpan(0, Math.Min(Run.Length, copy.Length - at)).CopyTo(copy.AsSpan(at));
                return copy;
            default:
                // A field of 1, 2, 4 or 8 bytes, aligned as ELF aligns its fields.
                var width = Run[0];
                var field = Position % (HeaderArea / width) * width;
                Span<byte> value = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(value, Value);
                value[..width].CopyTo(copy.AsSpan(field));
                return copy;
        }
    }

    public override string ToString() => $"{Kind} at {Position} value 0x{Value:x} run {Convert.ToHexString(Run)}";
}
