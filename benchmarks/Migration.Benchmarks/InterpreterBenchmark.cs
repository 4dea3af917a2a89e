using BenchmarkDotNet.Attributes;
using Migration.Machine.RiscV;

namespace Migration.Benchmarks;

/// <summary>
/// Guest instructions per second on the <c>counter</c> guest (integer ALU, multiply/divide, loads and stores
/// with dirty tracking on). Each operation is one instruction, so the reported mean is nanoseconds per guest
/// instruction: MIPS = 1000 / mean.
/// </summary>
[MemoryDiagnoser(false)]
public class InterpreterBenchmark
{
    private const int Instructions = 200_000_000;

    private RiscVMachine? _machine;

    [IterationSetup]
    public void CreateMachine() =>
        _machine = RiscVMachine.Load(RepositoryPaths.Guest("counter.elf"), new MachineOptions
        {
            MaxInstructions = Instructions,
            Arguments = ["1000"],
        });

    [IterationCleanup]
    public void DisposeMachine() => _machine?.Dispose();

    [Benchmark(OperationsPerInvoke = Instructions)]
    public ulong CounterGuest()
    {
        var exit = _machine!.Run();
        return exit.InstructionsRetired;
    }
}
