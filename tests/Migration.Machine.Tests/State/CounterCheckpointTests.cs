using System.Globalization;
using System.Text;
using Migration.Core.Machines;
using Migration.Core.Memory;
using Migration.Core.State;
using Migration.Machine.RiscV;
using Migration.Machine.Tests.Guests;
using static Migration.Machine.Tests.State.StateSections;

namespace Migration.Machine.Tests.State;

/// <summary>
/// The real <c>counter</c> guest, captured mid-run and resumed in a machine built from the copy: what it prints
/// after the resume, joined to what it printed before the capture, is the output of a run never interrupted.
/// </summary>
public class CounterCheckpointTests
{
    private const int Rounds = 3;
    private const int Steps = 200_000;
    private const ulong MemorySize = 16UL << 20;

    /// <summary>Generous: a loaded CI host runs the interpreter slowly, and every wait here ends on a condition.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static readonly string[] Arguments =
        [Rounds.ToString(CultureInfo.InvariantCulture), Steps.ToString(CultureInfo.InvariantCulture)];

    [Fact]
    public async Task A_counter_captured_mid_run_resumes_to_the_output_and_exit_of_an_uninterrupted_run()
    {
        var (expected, uninterrupted) = GuestRun.Run("counter", Arguments);
        Assert.Equal(CounterReference.Output(Rounds, Steps), expected);

        using var console = new GatedConsole(holdAfterLines: 2);
        using var original = RiscVMachine.Load(RepositoryPaths.Guest("counter"), Options(console));
        var (sections, before) = await CaptureAfterFirstRound(original, console);

        var resumed = await ResumeCopy(original.Memory, sections);
        Assert.Equal(expected, before + resumed.Output);
        Assert.Equal(uninterrupted.Kind, resumed.Exit.Kind);
        Assert.Equal(uninterrupted.GuestExitCode, resumed.Exit.GuestExitCode);
        // instret is part of the captured CPU, so the restored run ends on exactly the uninterrupted count.
        Assert.Equal(uninterrupted.InstructionsRetired, resumed.Exit.InstructionsRetired);
        Assert.Equal(Encoding.UTF8.GetByteCount(expected), resumed.ConsoleBytesWritten);

        // The source is untouched by the capture: resumed in place, it finishes the same way.
        original.Resume();
        var exit = await original.Completion.WaitAsync(Timeout);
        Assert.Equal(uninterrupted.InstructionsRetired, exit.InstructionsRetired);
        Assert.Equal(expected, Encoding.UTF8.GetString(console.ToArray()));
    }

    [Fact]
    public async Task Two_resumes_from_one_capture_print_the_same_and_end_the_same()
    {
        using var console = new GatedConsole(holdAfterLines: 2);
        using var original = RiscVMachine.Load(RepositoryPaths.Guest("counter"), Options(console));
        var (sections, before) = await CaptureAfterFirstRound(original, console);
        original.Terminate();

        var first = await ResumeCopy(original.Memory, sections);
        var second = await ResumeCopy(original.Memory, sections);
        Assert.Equal(first.Output, second.Output);
        Assert.Equal(first.Exit, second.Exit);
        Assert.Equal(CounterReference.Output(Rounds, Steps), before + first.Output);
    }

    [Fact]
    public async Task A_machine_captured_before_it_started_runs_the_whole_program_after_restore()
    {
        using var console = new MemoryStream();
        using var original = RiscVMachine.Load(RepositoryPaths.Guest("counter"), Options(console));
        var sections = original.CaptureDeviceState();

        var resumed = await ResumeCopy(original.Memory, sections);
        Assert.Equal(CounterReference.Output(Rounds, Steps), resumed.Output);
        Assert.Equal(0, resumed.Exit.GuestExitCode);
    }

    private static MachineOptions Options(Stream console) => new()
    {
        MemorySize = MemorySize,
        Console = console,
        Arguments = Arguments,
        MaxInstructions = GuestRun.InstructionGuard,
    };

    /// <summary>
    /// Runs until the guest is inside the write of the first round's line, requests the pause there and lets the write
    /// finish: the vCPU stops right after that ecall, so the capture is mid-run on any host, at the same instruction.
    /// </summary>
    private static async Task<(IReadOnlyList<StateSection> Sections, string Before)> CaptureAfterFirstRound(RiscVMachine machine, GatedConsole console)
    {
        machine.Start();
        Assert.True(console.WaitUntilHeld(Timeout), "the counter printed no round within the timeout");
        var pause = machine.PauseAsync();
        console.Release();
        await pause.WaitAsync(Timeout);
        Assert.Equal(MachineRunState.Paused, machine.State);

        var sections = machine.CaptureDeviceState();
        // Paused, the vCPU cannot write: the console holds exactly the bytes the count says.
        Assert.Equal(console.Length, machine.ConsoleBytesWritten);
        var before = Encoding.UTF8.GetString(console.ToArray(), 0, (int)machine.ConsoleBytesWritten);
        Assert.Equal(string.Join('\n', CounterReference.Output(Rounds, Steps).Split('\n')[..2]) + "\n", before);
        return (sections, before);
    }

    private static async Task<(string Output, MachineExit Exit, long ConsoleBytesWritten)> ResumeCopy(GuestMemory source, IReadOnlyList<StateSection> sections)
    {
        using var console = new MemoryStream();
        var memory = CopyMemory(source);
        RiscVMachine machine;
        try
        {
            machine = RiscVMachine.Restore(memory, sections, Options(console));
        }
        catch
        {
            memory.Dispose();
            throw;
        }

        using (machine)
        {
            Assert.Equal(MachineRunState.Created, machine.State);
            machine.Start();
            var exit = await machine.Completion.WaitAsync(Timeout);
            return (Encoding.UTF8.GetString(console.ToArray()), exit, machine.ConsoleBytesWritten);
        }
    }
}
