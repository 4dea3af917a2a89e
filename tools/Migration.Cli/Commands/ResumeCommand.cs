using System.CommandLine;
using Migration.Core.Checkpoints;
using Migration.Machine.RiscV;
using Migration.Networking.Plain;

namespace Migration.Cli.Commands;

/// <summary>
/// <c>migration resume FILE [--port …] [--max-instructions N] [--stats] [--checkpoint-every T --checkpoint-dir DIR]</c>:
/// rebuilds the machine a checkpoint holds (with its chain of parents) and runs it in the foreground.
/// </summary>
internal static class ResumeCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "checkpoint file (.mck); an incremental one needs its parents beside it" };
        var maxInstructions = CommonOptions.MaxInstructions();
        var ports = CommonOptions.Ports();
        var stats = CommonOptions.Stats();
        var checkpointEvery = CommonOptions.CheckpointEvery();
        var checkpointDirectory = CommonOptions.CheckpointDirectory();
        var command = new Command("resume", "Resume a guest from a checkpoint and run it in the foreground: console to stdout, exit code = guest exit code")
        {
            file, maxInstructions, ports, stats, checkpointEvery, checkpointDirectory,
        };
        command.Validators.Add(RunCommand.CheckpointOptionsValidator(checkpointEvery, checkpointDirectory));
        command.SetAction(parse => Run(
            parse.GetValue(file)!,
            parse.GetValue(maxInstructions),
            new ForegroundSettings(parse.GetValue(file)!.Name, parse.GetValue(ports)!, parse.GetValue(stats), parse.GetValue(checkpointEvery), parse.GetValue(checkpointDirectory))));
        return command;
    }

    private static int Run(FileInfo file, ulong? maxInstructions, ForegroundSettings settings)
    {
        using var stdout = Console.OpenStandardOutput();
        ResumedMachine resumed;
        try
        {
            resumed = RiscVCheckpoint.ResumeFileAsync(file.FullName, new MachineOptions
            {
                MaxInstructions = maxInstructions ?? ulong.MaxValue,
                Console = stdout,
                Network = new PlainHostNetwork(),
                Ports = settings.Ports,
            }).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"migration: {e.Message}");
            return 1;
        }
        catch (InsufficientMemoryException e)
        {
            Console.Error.WriteLine($"migration: {file.Name}: {e.Message}");
            return 1;
        }

        using (resumed.Machine)
        {
            var info = resumed.Checkpoint;
            Console.Error.WriteLine(
                $"migration: resumed {file.Name} (sequence {info.Sequence}, {resumed.Chain.Count} file(s) in the chain, {resumed.Pages.Pages} pages) in {resumed.ReadTime.TotalMilliseconds:F1} ms");
            foreach (var r in resumed.Rebindings)
            {
                var moved = r.Moved ? $" (was host {r.Previous})" : "";
                Console.Error.WriteLine($"migration: guest {r.Protocol.ToString().ToLowerInvariant()} {r.Guest} is host {r.Current}{moved}");
            }

            return ForegroundRun.Run(resumed.Machine, settings);
        }
    }
}
