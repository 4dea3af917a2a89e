using System.Diagnostics;
using System.Runtime.InteropServices;
using Migration.Core.Checkpoints;
using Migration.Machine.RiscV;

namespace Migration.Cli.Commands;

/// <summary>
/// Runs a created machine in the foreground for <c>run</c> and <c>resume</c>: port report, signals, periodic
/// checkpoints, statistics, and the exit code.
/// </summary>
internal static class ForegroundRun
{
    public static int Run(RiscVMachine machine, ForegroundSettings settings)
    {
        foreach (var (guestPort, host) in settings.Ports.Entries)
        {
            Console.Error.WriteLine($"migration: port {guestPort} -> {host}");
        }

        if (machine.Sockets is { } sockets)
        {
            sockets.Bound += (socket, host) =>
                Console.Error.WriteLine($"migration: guest {socket.Protocol.ToString().ToLowerInvariant()} {socket.LocalAddress} is host {socket.HostEndpoint ?? host.ToString()}");
        }

        // The conventional 128 + signal number tells a caller which signal stopped the guest.
        var signalExitCode = 0;
        void Stop(PosixSignalContext context, int exitCode)
        {
            context.Cancel = true;
            signalExitCode = exitCode;
            machine.Terminate();
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Stop(context, 130));
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Stop(context, 143));
        using var stopCheckpoints = new CancellationTokenSource();

        var started = Stopwatch.GetTimestamp();
        var instructionsBefore = machine.InstructionsRetired;
        machine.Start();
        var checkpoints = settings.CheckpointEvery is { } every
            ? Task.Run(() => CheckpointLoopAsync(machine, new CheckpointDirectory(settings.CheckpointDirectory!.FullName), every, stopCheckpoints.Token))
            : Task.CompletedTask;
        var exit = machine.Completion.GetAwaiter().GetResult();
        stopCheckpoints.Cancel();
        checkpoints.GetAwaiter().GetResult();
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (settings.Stats)
        {
            var retired = exit.InstructionsRetired - instructionsBefore;
            Console.Error.WriteLine($"migration: {retired} instructions in {elapsed.TotalSeconds:F3} s = {retired / elapsed.TotalSeconds / 1e6:F0} MIPS");
        }

        if (exit.Kind != MachineExitKind.Exited)
        {
            Console.Error.WriteLine($"migration: {settings.Name}: {exit}");
        }

        return exit.Kind == MachineExitKind.Terminated && signalExitCode != 0 ? signalExitCode : exit.ProcessExitCode;
    }

    /// <summary>
    /// A failed checkpoint (disk full, say) is reported and the guest keeps running; the next one is then full, since the
    /// failed one consumed the dirty log.
    /// </summary>
    private static async Task CheckpointLoopAsync(RiscVMachine machine, CheckpointDirectory directory, TimeSpan every, CancellationToken token)
    {
        var stale = directory.RemoveTemporaryFiles();
        if (stale > 0)
        {
            Console.Error.WriteLine($"migration: removed {stale} unfinished checkpoint file(s) from {directory.Path}");
        }

        var series = new CheckpointSeries();
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false) && !machine.Completion.IsCompleted)
            {
                try
                {
                    var r = await directory.WriteAsync(machine, series, cancellationToken: token).ConfigureAwait(false);
                    Console.Error.WriteLine(
                        $"migration: checkpoint {Path.GetFileName(r.Path)}: {(r.IsIncremental ? "incremental" : "full")}, {r.Pages.Pages} pages, {r.Bytes} bytes, guest paused {r.Paused.TotalMilliseconds:F1} ms");
                }
                catch (InvalidOperationException) when (machine.Completion.IsCompleted)
                {
                    return;
                }
                catch (CheckpointException e)
                {
                    Console.Error.WriteLine($"migration: {e.Message}");
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }
}
