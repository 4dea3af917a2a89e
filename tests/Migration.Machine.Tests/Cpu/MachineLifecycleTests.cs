using Migration.Core.Machines;
using Migration.Machine.RiscV;
using static Migration.Machine.Tests.Cpu.TestMachine;

namespace Migration.Machine.Tests.Cpu;

/// <summary>Control calls racing each other: what a daemon's API will do to a running machine.</summary>
public class MachineLifecycleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const ulong Counter = PauseResumeTests.Counter;

    private static CodeBuilder CountingLoop() => PauseResumeTests.CountingLoop();

    [Fact]
    public async Task Dispose_twice_is_harmless_and_terminate_after_dispose_is_a_no_op()
    {
        var test = Create(CountingLoop(), maxInstructions: ulong.MaxValue);
        var machine = test.Machine;
        machine.Start();
        machine.Dispose();
        machine.Dispose();
        machine.Terminate();
        Assert.Equal(MachineExitKind.Terminated, (await machine.Completion.WaitAsync(Timeout)).Kind);
        Assert.Throws<ObjectDisposedException>(() => machine.GetRegister(1));
        test.Dispose();
    }

    [Fact]
    public async Task Resume_cannot_cancel_a_terminate()
    {
        for (var i = 0; i < 20; i++)
        {
            using var test = Create(CountingLoop(), maxInstructions: ulong.MaxValue);
            var machine = test.Machine;
            machine.Start();
            machine.Terminate();
            machine.Resume();
            Assert.Equal(MachineExitKind.Terminated, (await machine.Completion.WaitAsync(Timeout)).Kind);
        }
    }

    [Fact]
    public async Task A_pause_that_succeeds_means_the_vcpu_is_stopped_and_one_overtaken_by_resume_is_cancelled()
    {
        using var test = Create(CountingLoop(), maxInstructions: ulong.MaxValue);
        var machine = test.Machine;
        machine.Start();
        for (var i = 0; i < 200; i++)
        {
            var pause = machine.PauseAsync();
            if (i % 2 == 1)
            {
                // Overtaken: the pause either completed first (the vCPU did stop) or is cancelled — never left hanging.
                machine.Resume();
                try
                {
                    await pause.WaitAsync(Timeout);
                }
                catch (OperationCanceledException)
                {
                }

                continue;
            }

            await pause.WaitAsync(Timeout);
            Assert.Equal(MachineRunState.Paused, machine.State);
            var retired = machine.InstructionsRetired;
            await Task.Yield();
            Assert.Equal(retired, machine.InstructionsRetired);
            machine.Resume();
        }
        machine.Terminate();
        await machine.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_cancelled_pause_request_is_withdrawn()
    {
        using var test = Create(CountingLoop(), maxInstructions: ulong.MaxValue);
        var machine = test.Machine;
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        machine.Start();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => machine.PauseAsync(cancelled.Token));
        var before = machine.Memory.ReadUInt64(Counter);
        Assert.True(SpinWait.SpinUntil(() => machine.Memory.ReadUInt64(Counter) != before, Timeout), "the guest keeps running");
        await machine.PauseAsync().WaitAsync(Timeout);
        Assert.Equal(MachineRunState.Paused, machine.State);
        machine.Terminate();
        await machine.Completion.WaitAsync(Timeout);
    }
}
