using System.Text;
using Migration.Core.Checkpoints;
using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Checkpoints;

/// <summary>Resumes a checkpoint in-process and runs the guest to its end.</summary>
internal static class ResumedRun
{
    /// <returns>The console bytes the guest had written before the checkpoint, and what it printed after resuming.</returns>
    public static async Task<(long Before, string After, MachineExit Exit)> FromFileAsync(string path)
    {
        using var console = new MemoryStream();
        var resumed = await RiscVCheckpoint.ResumeFileAsync(path, new MachineOptions { Console = console, MaxInstructions = Guests.GuestRun.InstructionGuard });
        using var machine = resumed.Machine;
        var before = machine.ConsoleBytesWritten;
        var exit = await RunAsync(machine);
        return (before, Encoding.UTF8.GetString(console.ToArray()), exit);
    }

    public static async Task<MachineExit> RunAsync(RiscVMachine machine)
    {
        machine.Start();
        return await machine.Completion.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public static Task<CheckpointResult> CaptureAsync(RiscVMachine machine, string path)
    {
        return Capture();

        async Task<CheckpointResult> Capture()
        {
            await using var file = File.Create(path);
            return await Checkpoint.CaptureAsync(machine, file);
        }
    }
}
