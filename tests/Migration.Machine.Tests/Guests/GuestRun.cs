using System.Text;
using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Guests;

/// <summary>Runs a committed guest in-process and returns its console output and how it ended.</summary>
internal static class GuestRun
{
    /// <summary>Bound on any guest run in tests, so a broken interpreter fails instead of hanging.</summary>
    public const ulong InstructionGuard = 2_000_000_000;

    public static (string Output, MachineExit Exit) Run(string guest, params string[] arguments)
    {
        using var console = new MemoryStream();
        using var machine = RiscVMachine.Load(RepositoryPaths.Guest(guest), new MachineOptions
        {
            MemorySize = 16UL << 20,
            Console = console,
            Arguments = arguments,
            MaxInstructions = InstructionGuard,
        });
        var exit = machine.Run();
        return (Encoding.UTF8.GetString(console.ToArray()), exit);
    }
}
