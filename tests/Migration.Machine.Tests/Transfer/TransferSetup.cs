using System.IO.Hashing;
using System.Text;
using Migration.Core.Machines;
using Migration.Core.State;
using Migration.Core.Transfer;
using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Transfer;

/// <summary>Options, build and start delegates, and checks shared by the transfer tests.</summary>
internal static class TransferSetup
{
    public static readonly byte[] Secret = Encoding.UTF8.GetBytes("transfer-tests shared secret, 32B");

    public static MigrationOptions Source() => new() { Secret = Secret };

    public static MigrationReceiveOptions Destination(ulong? maxMemory = null) =>
        new() { Secret = Secret, ExpectedKind = RiscVMachine.MachineKind, MaxMemorySize = maxMemory };

    /// <summary>The destination's build delegate, as RiscVCheckpoint restores a checkpoint.</summary>
    public static Func<RestoredMachineState, IVirtualMachine> Build(Stream? console = null) => Build(size => new MachineOptions
    {
        MemorySize = size,
        Console = console ?? Stream.Null,
        MaxInstructions = Guests.GuestRun.InstructionGuard,
    });

    /// <summary>A destination's build: the machine from the received state, with options for its memory size, then its socket table.</summary>
    public static Func<RestoredMachineState, IVirtualMachine> Build(Func<ulong, MachineOptions> options) => state =>
    {
        var memory = state.TakeMemory();
        RiscVMachine machine;
        try
        {
            machine = RiscVMachine.Restore(memory, state.Sections, options(memory.Size));
        }
        catch
        {
            memory.Dispose();
            throw;
        }

        try
        {
            machine.Sockets?.RestoreTable(state.Sockets);
            return machine;
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    };

    public static void Start(IVirtualMachine machine) => ((RiscVMachine)machine).Start();

    /// <summary>A running guest program in a VM of <paramref name="memory"/> bytes.</summary>
    public static RiscVMachine Load(string guest, ulong memory, Stream? console = null, params string[] arguments) =>
        RiscVMachine.Load(RepositoryPaths.Guest(guest), new MachineOptions
        {
            MemorySize = memory,
            Console = console ?? Stream.Null,
            Arguments = arguments,
        });

    /// <summary>Fills guest memory from the host with incompressible bytes, below the guest's own pages and its argument block.</summary>
    public static void FillRandom(RiscVMachine machine, ulong offset, ulong length, int seed = 1) =>
        Migration.Cli.Bench.MemoryContents.Fill(machine.Memory, machine.Memory.Base + offset, length, Migration.Cli.Bench.ContentPattern.Random, seed);

    /// <summary>
    /// Waits (bounded) until an <c>idle</c> guest has printed its line and settled into its sleep loop, after which its
    /// memory does not change; returns the memory's checksum from then.
    /// </summary>
    public static ulong SettledHash(RiscVMachine machine, ConsoleCapture console)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!console.Text.Contains("idle: ready", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the idle guest did not start");
            Thread.Sleep(1);
        }

        var previous = Hash(machine);
        while (true)
        {
            Thread.Sleep(20);
            var hash = Hash(machine);
            if (hash == previous)
            {
                return hash;
            }

            Assert.True(DateTime.UtcNow < deadline, "the idle guest's memory kept changing");
            previous = hash;
        }
    }

    public static ulong Hash(RiscVMachine machine)
    {
        var hash = new XxHash3();
        for (var page = 0; page < machine.Memory.PageCount; page++)
        {
            hash.Append(machine.Memory.GetPage(page));
        }

        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, double seconds = 30)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {seconds} s waiting until {what}");
            await Task.Delay(5);
        }
    }
}
