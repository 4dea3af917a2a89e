using System.Buffers.Binary;
using CsCheck;

namespace Migration.Core.Tests.Fuzz;

/// <summary>
/// One change to a valid input, printed in full on failure so the failing case can be written down as a fact.
/// <see cref="Position"/> is reduced modulo the input's length (or its frame count for a forged length), so one
/// generator serves inputs of any size.
/// </summary>
public sealed record Mutation(MutationKind Kind, int Position, uint Value, byte[] Run)
{
    /// <summary>Lengths a forged frame header gets: near every bound a reader checks, and far beyond.</summary>
    private static readonly uint[] ForgedLengths = [0, 1, 3, 4, 23, 24, 25, 4096, 32 << 20, (32 << 20) + 1, int.MaxValue, 0x8000_0000, uint.MaxValue];

    public static Gen<Mutation> Gen { get; } = CsCheck.Gen.OneOf(
        CsCheck.Gen.Int[0, int.MaxValue].Select(CsCheck.Gen.Int[0, 7], (p, bit) => new Mutation(MutationKind.FlipBit, p, (uint)bit, [])),
        CsCheck.Gen.Int[0, int.MaxValue].Select(p => new Mutation(MutationKind.Truncate, p, 0, [])),
        CsCheck.Gen.Int[0, int.MaxValue].Select(CsCheck.Gen.Byte.Array[1, 64], (p, run) => new Mutation(MutationKind.OverwriteRun, p, 0, run)),
        CsCheck.Gen.Int[0, int.MaxValue].Select(CsCheck.Gen.Int[0, ForgedLengths.Length - 1], CsCheck.Gen.UInt, (p, i, any) =>
            new Mutation(MutationKind.ForgeFrameLength, p, i % 2 == 0 ? ForgedLengths[i] : any, [])));

    public byte[] ApplyTo(byte[] valid)
    {
        var copy = (byte[])valid.Clone();
        var at = Position % valid.Length;
        switch (Kind)
        {
            case MutationKind.FlipBit:
                copy[at] ^= (byte)(1 << (int)(Value % 8));
                return copy;
            case MutationKind.Truncate:
                return copy[..at];
            case MutationKind.OverwriteRun:
                var length = Math.Min(Run.Length, copy.Length - at);
                Run.AsSpan(0, length).CopyTo(copy.AsSpan(at));
                return copy;
            default:
                var frames = StreamLayout.FrameOffsets(valid);
                BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(frames[Position % frames.Count] + 4), Value);
                return copy;
        }
    }

    public override string ToString() => $"{Kind} at {Position} value {Value} run {Convert.ToHexString(Run)}";
}
