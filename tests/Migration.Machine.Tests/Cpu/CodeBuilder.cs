using static Migration.Machine.Tests.Cpu.Asm;

namespace Migration.Machine.Tests.Cpu;

/// <summary>
/// Lays out a test program word by word with named labels, so branch and jump offsets are computed
/// rather than counted by hand. Forward references are patched when the program is built.
/// </summary>
internal sealed class CodeBuilder(ulong origin = TestMachine.RamBase)
{
    private readonly List<uint> _words = [];
    private readonly Dictionary<string, ulong> _labels = [];
    private readonly List<Fixup> _fixups = [];

    public ulong Origin { get; } = origin;

    /// <summary>Address of the next word to be emitted.</summary>
    public ulong Pc => Origin + ((ulong)_words.Count * 4);

    public CodeBuilder Emit(params uint[] words)
    {
        _words.AddRange(words);
        return this;
    }

    /// <summary>Emits an instruction that refers to a label by its offset from this instruction.</summary>
    public CodeBuilder Emit(string label, Func<long, uint> encode)
    {
        _fixups.Add(new Fixup(_words.Count, label, offset => [encode(offset)]));
        _words.Add(0);
        return this;
    }

    public CodeBuilder Label(string name)
    {
        if (!_labels.TryAdd(name, Pc))
        {
            throw new InvalidOperationException($"label '{name}' is defined twice");
        }

        return this;
    }

    public ulong AddressOf(string label) => _labels[label];

    /// <summary>Loads a label's address with auipc + addi, like the <c>la</c> pseudo-instruction.</summary>
    public CodeBuilder La(int rd, string label)
    {
        _fixups.Add(new Fixup(_words.Count, label, offset =>
        {
            var low = ((offset & 0xFFF) ^ 0x800) - 0x800;
            return [Auipc(rd, (int)((offset - low) >> 12)), Addi(rd, rd, (int)low)];
        }));
        _words.Add(0);
        _words.Add(0);
        return this;
    }

    public CodeBuilder Li(int rd, long value) => Emit(Asm.Li(rd, value));

    public CodeBuilder Li(int rd, ulong value) => Emit(Asm.Li(rd, unchecked((long)value)));

    /// <summary>Pads with nops up to <paramref name="address"/>, to place code at a page boundary.</summary>
    public CodeBuilder PadTo(ulong address)
    {
        if (address < Pc || (address & 3) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x} is behind 0x{Pc:x} or unaligned");
        }

        while (Pc < address)
        {
            _words.Add(Nop());
        }

        return this;
    }

    /// <summary>The exit hypercall with a constant code; only a hypercall while mtvec is 0.</summary>
    public CodeBuilder Exit(long code = 0) => Li(A0, code).ExitWithA0();

    public CodeBuilder ExitWithA0() => Emit(Addi(A7, Zero, 0), Ecall());

    public CodeBuilder Hypercall(long number) => Li(A7, number).Emit(Ecall());

    public uint[] Build()
    {
        var words = _words.ToArray();
        foreach (var fixup in _fixups)
        {
            if (!_labels.TryGetValue(fixup.Label, out var target))
            {
                throw new InvalidOperationException($"label '{fixup.Label}' is not defined");
            }

            var at = Origin + ((ulong)fixup.Index * 4);
            var encoded = fixup.Encode(unchecked((long)(target - at)));
            encoded.CopyTo(words, fixup.Index);
        }

        return words;
    }

    private sealed record Fixup(int Index, string Label, Func<long, uint[]> Encode);
}
