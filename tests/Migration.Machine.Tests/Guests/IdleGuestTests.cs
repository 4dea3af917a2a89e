using System.Diagnostics;
using System.Text;
using Migration.Core.Machines;
using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Guests;

public sealed class IdleGuestTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    // Half of the guest's one-second sleep step: a control call this fast did not wait for the step to end.
    private static readonly TimeSpan Prompt = TimeSpan.FromMilliseconds(500);

    private readonly MemoryStream _console = new();
    private readonly RiscVMachine _machine;

    public IdleGuestTests()
    {
        _machine = RiscVMachine.Load(RepositoryPaths.Guest("idle"), new MachineOptions
        {
            MemorySize = 4UL << 20,
            Console = Stream.Synchronized(_console),
            MaxInstructions = GuestRun.InstructionGuard,
        });
    }

    private string ConsoleText
    {
        get
        {
            lock (_console)
            {
                return Encoding.UTF8.GetString(_console.ToArray());
            }
        }
    }

    public void Dispose()
    {
        _machine.Dispose();
        _console.Dispose();
    }

    [Fact]
    public async Task Prints_ready_then_keeps_running_on_almost_no_instructions()
    {
        StartAndWaitForReady();
        var atReady = _machine.InstructionsRetired;

        // Long enough to span at least one wake-up from the 1 s sleep, so the loop is seen to go round.
        await Task.Delay(TimeSpan.FromMilliseconds(1500));
        var grown = _machine.InstructionsRetired - atReady;

        Assert.Equal(MachineRunState.Running, _machine.State);
        Assert.False(_machine.Completion.IsCompleted, "the guest ended");
        Assert.Equal("idle: ready\n", ConsoleText);
        Assert.True(grown > 0, "the guest never woke from its first sleep step");
        // A spinning guest retires hundreds of millions of instructions a second; each sleep step costs about ten.
        Assert.True(grown < 1_000, $"{grown} instructions in 1.5 s: the guest is not sleeping");
    }

    [Fact]
    public async Task Pauses_resumes_and_terminates_without_waiting_for_its_sleep_step()
    {
        StartAndWaitForReady();

        var clock = Stopwatch.StartNew();
        await _machine.PauseAsync().WaitAsync(Timeout);
        Assert.True(clock.Elapsed < Prompt, $"pause took {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(MachineRunState.Paused, _machine.State);
        var paused = _machine.InstructionsRetired;
        await Task.Delay(50);
        Assert.Equal(paused, _machine.InstructionsRetired);

        _machine.Resume();
        Assert.True(SpinWait.SpinUntil(() => _machine.State == MachineRunState.Running, Timeout), "the vCPU did not resume");
        await Task.Delay(50);
        Assert.False(_machine.Completion.IsCompleted);

        clock.Restart();
        _machine.Terminate();
        var exit = await _machine.Completion.WaitAsync(Timeout);
        Assert.True(clock.Elapsed < Prompt, $"terminate took {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(MachineExitKind.Terminated, exit.Kind);
        Assert.Equal("idle: ready\n", ConsoleText);
    }

    [Fact]
    public async Task A_paused_machine_whose_clock_moved_on_while_stopped_goes_back_to_sleep()
    {
        StartAndWaitForReady();
        await _machine.PauseAsync().WaitAsync(Timeout);
        var paused = _machine.InstructionsRetired;

        // What a restore after an hour on disk looks like to the guest: the sleep it was in has long expired.
        _machine.Clock.OffsetNanoseconds += 3_600_000_000_000;
        _machine.Resume();

        Assert.True(SpinWait.SpinUntil(() => _machine.InstructionsRetired > paused, Timeout), "the expired sleep never returned");
        await Task.Delay(300);
        var grown = _machine.InstructionsRetired - paused;
        Assert.True(grown < 1_000, $"{grown} instructions after the resume: the guest did not go back to sleep");
        Assert.Equal(MachineRunState.Running, _machine.State);
        Assert.Equal("idle: ready\n", ConsoleText);
    }

    [Fact]
    public void Rejects_arguments_with_a_usage_line_and_exit_code_2()
    {
        var (output, exit) = GuestRun.Run("idle", "now");
        Assert.Equal(MachineExitKind.Exited, exit.Kind);
        Assert.Equal(2, exit.GuestExitCode);
        Assert.Equal("usage: idle\n", output);
    }

    private void StartAndWaitForReady()
    {
        _machine.Start();
        Assert.True(SpinWait.SpinUntil(() => ConsoleText.Length > 0 || _machine.Completion.IsCompleted, Timeout), "no output from the guest");
        Assert.Equal("idle: ready\n", ConsoleText);
    }
}
