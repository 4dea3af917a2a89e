using static Migration.Machine.Tests.Cpu.Asm;
using static Migration.Machine.Tests.Cpu.TestMachine;

namespace Migration.Machine.Tests.Cpu;

public class MultiplyDivideTests
{
    private const ulong Min = 0x8000_0000_0000_0000UL;
    private const ulong Max = 0x7FFF_FFFF_FFFF_FFFFUL;
    private const ulong AllOnes = ulong.MaxValue;

    private static readonly Dictionary<string, Func<int, int, int, uint>> Ops = new()
    {
        ["mul"] = Mul, ["mulh"] = Mulh, ["mulhsu"] = Mulhsu, ["mulhu"] = Mulhu,
        ["div"] = Div, ["divu"] = Divu, ["rem"] = Rem, ["remu"] = Remu,
        ["mulw"] = Mulw, ["divw"] = Divw, ["divuw"] = Divuw, ["remw"] = Remw, ["remuw"] = Remuw,
    };

    private static readonly ulong[] EdgeValues =
    [
        0, 1, 2, 3, 7, unchecked((ulong)-7L), AllOnes, unchecked((ulong)-2L), Min, Min + 1, Max,
        0xFFFF_FFFF, 0x1_0000_0000, 0x8000_0000, 0x7FFF_FFFF, 0xFFFF_FFFF_8000_0000, 0x1_0000_0007,
        0x5555_5555_5555_5555, 0xAAAA_AAAA_AAAA_AAAA, 0x1234_5678_9ABC_DEF0,
    ];

    [Theory]
    [InlineData("mul", 3UL, 4UL, 12UL)]
    [InlineData("mul", AllOnes, AllOnes, 1UL)]
    [InlineData("mul", Min, AllOnes, Min)]
    [InlineData("mul", 0xFFFF_FFFFUL, 0xFFFF_FFFFUL, 0xFFFF_FFFE_0000_0001UL)]
    [InlineData("mul", Max, 2UL, 0xFFFF_FFFF_FFFF_FFFEUL)]
    [InlineData("mulh", Min, Min, 0x4000_0000_0000_0000UL)]
    [InlineData("mulh", AllOnes, AllOnes, 0UL)]
    [InlineData("mulh", AllOnes, 1UL, AllOnes)]
    [InlineData("mulh", Max, Max, 0x3FFF_FFFF_FFFF_FFFFUL)]
    [InlineData("mulh", Min, Max, 0xC000_0000_0000_0000UL)]
    [InlineData("mulhsu", AllOnes, AllOnes, AllOnes)]
    [InlineData("mulhsu", Min, AllOnes, Min)]
    [InlineData("mulhsu", 1UL, AllOnes, 0UL)]
    [InlineData("mulhsu", Max, AllOnes, 0x7FFF_FFFF_FFFF_FFFEUL)]
    [InlineData("mulhsu", AllOnes, 0UL, 0UL)]
    [InlineData("mulhu", AllOnes, AllOnes, 0xFFFF_FFFF_FFFF_FFFEUL)]
    [InlineData("mulhu", Min, 2UL, 1UL)]
    [InlineData("mulhu", 0xFFFF_FFFFUL, 0xFFFF_FFFFUL, 0UL)]
    [InlineData("div", 7UL, 2UL, 3UL)]
    [InlineData("div", 0xFFFF_FFFF_FFFF_FFF9UL, 2UL, 0xFFFF_FFFF_FFFF_FFFDUL)]
    [InlineData("div", 7UL, 0xFFFF_FFFF_FFFF_FFFEUL, 0xFFFF_FFFF_FFFF_FFFDUL)]
    [InlineData("div", 0xFFFF_FFFF_FFFF_FFF9UL, 0xFFFF_FFFF_FFFF_FFFEUL, 3UL)]
    [InlineData("div", 42UL, 0UL, AllOnes)]
    [InlineData("div", 0UL, 0UL, AllOnes)]
    [InlineData("div", Min, AllOnes, Min)]
    [InlineData("div", Min, 1UL, Min)]
    [InlineData("divu", 7UL, 2UL, 3UL)]
    [InlineData("divu", AllOnes, 1UL, AllOnes)]
    [InlineData("divu", 42UL, 0UL, AllOnes)]
    [InlineData("divu", Min, AllOnes, 0UL)]
    [InlineData("divu", AllOnes, 2UL, Max)]
    [InlineData("rem", 7UL, 2UL, 1UL)]
    [InlineData("rem", 0xFFFF_FFFF_FFFF_FFF9UL, 2UL, AllOnes)]
    [InlineData("rem", 7UL, 0xFFFF_FFFF_FFFF_FFFEUL, 1UL)]
    [InlineData("rem", 0xFFFF_FFFF_FFFF_FFF9UL, 0xFFFF_FFFF_FFFF_FFFEUL, AllOnes)]
    [InlineData("rem", 42UL, 0UL, 42UL)]
    [InlineData("rem", Min, AllOnes, 0UL)]
    [InlineData("rem", Min, 0UL, Min)]
    [InlineData("remu", 7UL, 2UL, 1UL)]
    [InlineData("remu", 42UL, 0UL, 42UL)]
    [InlineData("remu", AllOnes, 10UL, 5UL)]
    [InlineData("remu", Min, AllOnes, Min)]
    [InlineData("mulw", 0x7FFF_FFFFUL, 2UL, 0xFFFF_FFFF_FFFF_FFFEUL)]
    [InlineData("mulw", 0x1_0000_0003UL, 0x1_0000_0005UL, 15UL)]
    [InlineData("mulw", 0x1_0000UL, 0x1_0000UL, 0UL)]
    [InlineData("mulw", 0x8000UL, 0x1_0000UL, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("divw", 7UL, 2UL, 3UL)]
    [InlineData("divw", 0xFFFF_FFF9UL, 2UL, 0xFFFF_FFFF_FFFF_FFFDUL)]
    [InlineData("divw", 0x8000_0000UL, AllOnes, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("divw", 0x8000_0000UL, 0xFFFF_FFFFUL, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("divw", 42UL, 0UL, AllOnes)]
    [InlineData("divw", 42UL, 0x1_0000_0000UL, AllOnes)]
    [InlineData("divw", 0x1_0000_0007UL, 2UL, 3UL)]
    [InlineData("divuw", 0xFFFF_FFFFUL, 1UL, AllOnes)]
    [InlineData("divuw", 7UL, 2UL, 3UL)]
    [InlineData("divuw", 42UL, 0UL, AllOnes)]
    [InlineData("divuw", 0x8000_0000UL, 1UL, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData("divuw", 0xFFFF_FFFFUL, 0x1_0000_0002UL, 0x7FFF_FFFFUL)]
    [InlineData("remw", 0xFFFF_FFF9UL, 2UL, AllOnes)]
    [InlineData("remw", 0x8000_0000UL, AllOnes, 0UL)]
    [InlineData("remw", 0x8000_0001UL, 0UL, 0xFFFF_FFFF_8000_0001UL)]
    [InlineData("remw", 0x1_0000_0005UL, 0UL, 5UL)]
    [InlineData("remw", 7UL, 2UL, 1UL)]
    [InlineData("remuw", 0xFFFF_FFFFUL, 0UL, AllOnes)]
    [InlineData("remuw", 0x1_0000_0007UL, 0UL, 7UL)]
    [InlineData("remuw", 0xFFFF_FFFFUL, 0x10UL, 0xFUL)]
    [InlineData("remuw", 0x8000_0005UL, 0x8000_0000UL, 5UL)]
    public void Edge_cases(string op, ulong rs1, ulong rs2, ulong expected)
    {
        Assert.Equal(expected, Reference(op, rs1, rs2));
        AssertHex(expected, TestMachine.Binary(Ops[op], rs1, rs2));
    }

    [Theory]
    [InlineData("mul")]
    [InlineData("mulh")]
    [InlineData("mulhsu")]
    [InlineData("mulhu")]
    [InlineData("div")]
    [InlineData("divu")]
    [InlineData("rem")]
    [InlineData("remu")]
    [InlineData("mulw")]
    [InlineData("divw")]
    [InlineData("divuw")]
    [InlineData("remw")]
    [InlineData("remuw")]
    public void Every_pair_of_edge_values_matches_a_128_bit_reference(string op)
    {
        var pairs = EdgeValues.SelectMany(a => EdgeValues.Select(b => (a, b))).ToList();
        var results = TestMachine.BinaryBatch(Ops[op], pairs);
        for (var i = 0; i < pairs.Count; i++)
        {
            var (a, b) = pairs[i];
            var expected = Reference(op, a, b);
            Assert.True(expected == results[i], $"{op} 0x{a:x}, 0x{b:x}: expected 0x{expected:x}, got 0x{results[i]:x}");
        }
    }

    /// <summary>The M extension as the spec defines it, on 128-bit integers rather than Math.BigMul.</summary>
    private static ulong Reference(string op, ulong a, ulong b)
    {
        long sa = (long)a, sb = (long)b;
        int wa = (int)a, wb = (int)b;
        return op switch
        {
            "mul" => (ulong)((UInt128)a * b),
            "mulh" => (ulong)(((Int128)sa * sb) >> 64),
            "mulhsu" => (ulong)(((Int128)sa * (Int128)b) >> 64),
            "mulhu" => (ulong)(((UInt128)a * b) >> 64),
            "div" => sb == 0 ? AllOnes : sa == long.MinValue && sb == -1 ? a : (ulong)(sa / sb),
            "divu" => b == 0 ? AllOnes : a / b,
            "rem" => sb == 0 ? a : sa == long.MinValue && sb == -1 ? 0 : (ulong)(sa % sb),
            "remu" => b == 0 ? a : a % b,
            "mulw" => SignExtend32((uint)((ulong)(uint)wa * (uint)wb)),
            "divw" => wb == 0 ? AllOnes : wa == int.MinValue && wb == -1 ? SignExtend32((uint)wa) : SignExtend32((uint)(wa / wb)),
            "divuw" => (uint)wb == 0 ? AllOnes : SignExtend32((uint)wa / (uint)wb),
            "remw" => wb == 0 ? SignExtend32((uint)wa) : wa == int.MinValue && wb == -1 ? 0 : SignExtend32((uint)(wa % wb)),
            "remuw" => (uint)wb == 0 ? SignExtend32((uint)wa) : SignExtend32((uint)wa % (uint)wb),
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
        };
    }

    private static ulong SignExtend32(uint value) => (ulong)(long)(int)value;
}
