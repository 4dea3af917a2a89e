using CsCheck;
using Migration.Machine.Tests.Cpu;

namespace Migration.Machine.Tests.Fuzz;

/// <summary>A guest pointer and length whose range does not lie wholly inside the test machine's RAM.</summary>
public readonly record struct HostilePointer(ulong Address, ulong Length)
{
    private static readonly Gen<ulong> Addresses = Gen.OneOf(
        Gen.OneOf(0UL, 0x10UL, TestMachine.RamBase - 1, TestMachine.RamBase - 8, TestMachine.RamEnd - 1, TestMachine.RamEnd - 2,
            TestMachine.RamEnd - 8, TestMachine.RamEnd, 0x7FFF_FFFF_FFFF_FFFFUL, 0xFFFF_FFFF_FFFF_FFF0UL, ulong.MaxValue - 1, ulong.MaxValue),
        Gen.ULong,
        Gen.ULong[TestMachine.RamBase, TestMachine.RamEnd - 1]);

    private static readonly Gen<ulong> Lengths = Gen.OneOf(
        Gen.OneOf(1UL, 2UL, 4UL, 16UL, 0x1000UL, TestMachine.MemorySize, 0x8000_0000_0000_0000UL, ulong.MaxValue - 7, ulong.MaxValue),
        Gen.ULong,
        Gen.ULong[1, 2 * TestMachine.MemorySize]);

    /// <summary>Buffers: any start, any non-zero length, the range leaving RAM somewhere (below, above, or by wrapping).</summary>
    public static Gen<HostilePointer> Buffer { get; } =
        Addresses.Select(Lengths, (a, n) => new HostilePointer(a, n)).Where(p => p.LeavesRam);

    /// <summary>Structures of at least 4 bytes (sockaddr, socklen_t): the first 4 bytes already leave RAM.</summary>
    public static Gen<HostilePointer> Structure { get; } =
        Addresses.Select(a => new HostilePointer(a, 4)).Where(p => p.LeavesRam);

    public bool LeavesRam => Address < TestMachine.RamBase || Address >= TestMachine.RamEnd || Length > TestMachine.RamEnd - Address;

    public override string ToString() => $"0x{Address:x}+0x{Length:x}";
}
