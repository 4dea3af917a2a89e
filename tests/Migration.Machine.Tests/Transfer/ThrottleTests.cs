using System.Diagnostics;
using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Transfer;

[Collection(TimingCollection.Name)]
public sealed class ThrottleTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task A_throttled_vcpu_runs_its_share_of_the_time_and_full_speed_again_at_zero()
    {
        using var machine = LongCounter();
        machine.Start();

        // Nominally 10 % of the free rate. The host is shared and its speed drifts several-fold between moments, so a
        // measurement spoilt by a neighbour is taken again, up to three times.
        var attempts = new List<string>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var free = await InstructionsInAsync(machine);
            machine.Throttle = 0.9;
            var held = await InstructionsInAsync(machine);
            machine.Throttle = 0;
            var again = await InstructionsInAsync(machine);
            var share = (double)held / free;
            if (share is > 0.02 and < 0.35 && again > 3 * held)
            {
                return;
            }

            attempts.Add($"free {free}, held {held} ({share:P0}), again {again}");
        }

        Assert.Fail(string.Join("; ", attempts));
    }

    [Fact]
    public async Task A_pause_ends_a_throttle_hold_at_once()
    {
        using var machine = LongCounter();
        machine.Start();
        machine.Throttle = 0.99;
        await Task.Delay(50);

        var started = Stopwatch.GetTimestamp();
        await machine.PauseAsync().WaitAsync(TimeSpan.FromSeconds(5));
        var took = Stopwatch.GetElapsedTime(started);

        // A hold at 0.99 lasts ~99 ms per 1 ms slice; a pause must not wait it out.
        Assert.True(took < TimeSpan.FromMilliseconds(40), $"pause took {took.TotalMilliseconds:F1} ms");
        machine.Resume();
        machine.Throttle = 0;
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void A_throttle_outside_0_to_1_is_refused(double value)
    {
        using var machine = LongCounter();
        Assert.Throws<ArgumentOutOfRangeException>(() => machine.Throttle = value);
    }

    private static RiscVMachine LongCounter() => TransferSetup.Load("counter", 1UL << 20, null, "100000", "2000000");

    /// <summary>Instructions retired over <see cref="Window"/>; read while paused, as the hot loop publishes the count only when it leaves.</summary>
    private static async Task<ulong> InstructionsInAsync(RiscVMachine machine)
    {
        await machine.PauseAsync();
        var from = machine.InstructionsRetired;
        machine.Resume();
        await Task.Delay(Window);
        await machine.PauseAsync();
        var to = machine.InstructionsRetired;
        machine.Resume();
        return to - from;
    }
}
