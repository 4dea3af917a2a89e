using System.Globalization;
using System.Text;

namespace Migration.Host.Tests;

/// <summary>The <c>counter</c> guest's algorithm (src/guests/counter.c) computed by the host: the exact output a VM must show. A copy of the Machine tests' reference, which is internal there.</summary>
internal static class CounterReference
{
    public static string Output(int rounds, int steps)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"counter: {rounds} rounds of {steps} steps\n");
        ulong x = 0x9E3779B97F4A7C15;
        uint y = 12345;
        ulong acc = 0;
        for (var round = 1; round <= rounds; round++)
        {
            for (var step = 0; step < steps; step++)
            {
                unchecked
                {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    y = (y * 1664525) + 1013904223;
                    var d = (x >> 44) | 1;
                    var q = acc / d;
                    var r = acc % d;
                    var sq = (long)acc / (long)d;
                    var a = (int)(y ^ (y >> 16));
                    var b = (int)(x & 0xFFFF) | 1;
                    var wq = a / b;
                    var wr = a % b;
                    var hi = Math.BigMul(acc, x, out _);
                    acc = ((acc ^ hi) * 0xBF58476D1CE4E5B9) + q + (r << 11) + (ulong)sq
                        + (ulong)(long)wq + ((ulong)(uint)wr << (int)(y >> 27));
                }
            }

            text.Append(CultureInfo.InvariantCulture, $"round {round}/{rounds} acc=0x{acc:x16}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"checksum 0x{acc ^ x ^ y:x16}\n");
        return text.ToString();
    }
}
