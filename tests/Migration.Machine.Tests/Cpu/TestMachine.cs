using System.Buffers.Binary;
using System.Text;
using Migration.Machine.RiscV;
using Migration.Machine.RiscV.Loader;

namespace Migration.Machine.Tests.Cpu;

/// <summary>
/// A 1 MiB machine running a program given as instruction words at the start of RAM, with its console
/// captured. The instruction limit and a wall-clock bound keep a broken program from hanging the suite.
/// </summary>
internal sealed class TestMachine : IDisposable
{
    public const ulong RamBase = 0x8000_0000;
    public const ulong MemorySize = 1UL << 20;
    public const ulong RamEnd = RamBase + MemorySize;
    public const ulong DefaultMaxInstructions = 1_000_000;

    private static readonly TimeSpan CompletionTimeout = TimeSpan.FromSeconds(10);

    private TestMachine(RiscVMachine machine, MemoryStream console)
    {
        Machine = machine;
        Console = console;
    }

    public RiscVMachine Machine { get; }

    public MemoryStream Console { get; }

    public string ConsoleText => Encoding.UTF8.GetString(Console.ToArray());

    public MachineExit? Exit { get; private set; }

    public ulong this[int register] => Machine.GetRegister(register);

    public static ElfSegment Data(ulong address, byte[] bytes) => new(address, bytes, (ulong)bytes.Length);

    public static ElfSegment Data(ulong address, params ulong[] doublewords)
    {
        var bytes = new byte[doublewords.Length * 8];
        for (var i = 0; i < doublewords.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), doublewords[i]);
        }

        return Data(address, bytes);
    }

    public static ElfSegment Code(ulong address, params uint[] words)
    {
        var bytes = new byte[words.Length * 4];
        for (var i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), words[i]);
        }

        return Data(address, bytes);
    }

    public static ElfImage Image(uint[] program, ulong? toHost = null, IEnumerable<ElfSegment>? data = null)
    {
        var segments = new List<ElfSegment> { Code(RamBase, program) };
        segments.AddRange(data ?? []);
        return new ElfImage("test", RamBase, segments, toHost);
    }

    /// <summary>Builds the machine without starting it, for tests that drive it themselves.</summary>
    public static TestMachine Create(
        uint[] program, ulong? toHost = null, IEnumerable<ElfSegment>? data = null, ulong maxInstructions = DefaultMaxInstructions)
    {
        var console = new MemoryStream();
        try
        {
            var options = new MachineOptions { MemorySize = MemorySize, MaxInstructions = maxInstructions, Console = console };
            return new TestMachine(RiscVMachine.Create(Image(program, toHost, data), options), console);
        }
        catch
        {
            console.Dispose();
            throw;
        }
    }

    public static TestMachine Create(
        CodeBuilder code, ulong? toHost = null, IEnumerable<ElfSegment>? data = null, ulong maxInstructions = DefaultMaxInstructions) =>
        Create(code.Build(), toHost, data, maxInstructions);

    public static TestMachine Run(
        CodeBuilder code, ulong? toHost = null, IEnumerable<ElfSegment>? data = null, ulong maxInstructions = DefaultMaxInstructions) =>
        Run(code.Build(), toHost, data, maxInstructions);

    public static TestMachine Run(
        uint[] program, ulong? toHost = null, IEnumerable<ElfSegment>? data = null, ulong maxInstructions = DefaultMaxInstructions)
    {
        var machine = Create(program, toHost, data, maxInstructions);
        try
        {
            machine.RunToCompletion();
            return machine;
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    /// <summary>Runs the program that ends with the exit hypercall and returns the value it left in <paramref name="result"/>.</summary>
    public static ulong RunFor(int result, CodeBuilder code, IEnumerable<ElfSegment>? data = null)
    {
        using var machine = Run(code.Exit(0), data: data);
        machine.AssertExited(0);
        return machine[result];
    }

    /// <summary>rd = op(rs1, rs2) on two constants, through T0, T1 and T2.</summary>
    public static ulong Binary(Func<int, int, int, uint> op, ulong rs1, ulong rs2) =>
        RunFor(Asm.T2, new CodeBuilder().Li(Asm.T0, rs1).Li(Asm.T1, rs2).Emit(op(Asm.T2, Asm.T0, Asm.T1)));

    /// <summary>rd = op(rs1, imm) on a constant, through T0 and T2.</summary>
    public static ulong Immediate(Func<int, int, int, uint> op, ulong rs1, int imm) =>
        RunFor(Asm.T2, new CodeBuilder().Li(Asm.T0, rs1).Emit(op(Asm.T2, Asm.T0, imm)));

    /// <summary>Applies op to every pair in one guest run, storing results to memory; returns them in order.</summary>
    public static ulong[] BinaryBatch(Func<int, int, int, uint> op, IReadOnlyList<(ulong A, ulong B)> pairs)
    {
        const ulong results = RamBase + 0x8_0000;
        var code = new CodeBuilder().Li(Asm.S0, results);
        foreach (var (a, b) in pairs)
        {
            code.Li(Asm.T0, a).Li(Asm.T1, b).Emit(op(Asm.T2, Asm.T0, Asm.T1), Asm.Sd(Asm.T2, Asm.S0, 0), Asm.Addi(Asm.S0, Asm.S0, 8));
        }

        using var machine = Run(code.Exit(0));
        machine.AssertExited(0);
        var values = new ulong[pairs.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = machine.Machine.Memory.ReadUInt64(results + ((ulong)i * 8));
        }

        return values;
    }

    public MachineExit RunToCompletion()
    {
        Machine.Start();
        if (!Machine.Completion.Wait(CompletionTimeout))
        {
            Machine.Terminate();
            throw new TimeoutException($"the guest did not finish within {CompletionTimeout}; pc 0x{Machine.Pc:x}");
        }

        Exit = Machine.Completion.Result;
        return Exit;
    }

    /// <summary>Equality of register values, reported in hex.</summary>
    public static void AssertHex(ulong expected, ulong actual) =>
        Assert.True(expected == actual, $"expected 0x{expected:x16}, got 0x{actual:x16}");

    public void AssertExited(long code = 0)
    {
        Assert.NotNull(Exit);
        Assert.True(Exit.Kind == MachineExitKind.Exited, $"expected an exit, got: {Exit}");
        Assert.Equal(code, Exit.GuestExitCode);
    }

    /// <summary>Asserts an unhandled-trap stop and returns its message.</summary>
    public string AssertFaulted()
    {
        Assert.NotNull(Exit);
        Assert.True(Exit.Kind == MachineExitKind.Faulted, $"expected a fault, got: {Exit}");
        Assert.NotNull(Exit.Message);
        return Exit.Message;
    }

    public void Dispose()
    {
        Machine.Dispose();
        Console.Dispose();
    }
}
