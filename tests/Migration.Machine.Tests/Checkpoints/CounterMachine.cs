using System.Text;
using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Checkpoints;

/// <summary>The counter guest running in-process with a console the test can read while it runs.</summary>
internal sealed class CounterMachine : IDisposable
{
    public const string Rounds = "8";
    public const string Steps = "2000000";

    private readonly MemoryStream _console = new();

    // Stream.Synchronized locks on the wrapper it returns: reading the output must take that same lock.
    private readonly Stream _synchronized;

    public CounterMachine(ulong memory = 1UL << 20)
    {
        _synchronized = Stream.Synchronized(_console);
        Machine = RiscVMachine.Load(RepositoryPaths.Guest("counter"), new MachineOptions
        {
            MemorySize = memory,
            Console = _synchronized,
            Arguments = [Rounds, Steps],
            MaxInstructions = Guests.GuestRun.InstructionGuard,
        });
    }

    public RiscVMachine Machine { get; }

    public string Output
    {
        get
        {
            lock (_synchronized)
            {
                return Encoding.UTF8.GetString(_console.ToArray());
            }
        }
    }

    /// <summary>What the guest prints when nothing interrupts it.</summary>
    public static string Uninterrupted() => Guests.GuestRun.Run("counter", Rounds, Steps).Output;

    /// <summary>
    /// Waits (bounded) until the guest has printed the end of round <paramref name="round"/>. Progress is watched on the
    /// console because the retired-instruction count is only published when the hart leaves its hot loop.
    /// </summary>
    public void RunUntilRound(int round)
    {
        var line = $"round {round}/{Rounds} ";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!Output.Contains(line, StringComparison.Ordinal))
        {
            Assert.False(Machine.Completion.IsCompleted, $"the guest finished before round {round}");
            Assert.True(DateTime.UtcNow < deadline, $"the guest did not reach round {round} in 30 s");
            Thread.Sleep(1);
        }
    }

    public void Dispose()
    {
        Machine.Dispose();
        _console.Dispose();
    }
}
