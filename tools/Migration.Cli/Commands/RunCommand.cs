using System.CommandLine;
using Migration.Core.Memory;
using Migration.Core.Sockets;
using Migration.Machine.RiscV;
using Migration.Machine.RiscV.Loader;
using Migration.Networking.Plain;

namespace Migration.Cli.Commands;

/// <summary><c>migration run GUEST [--memory SIZE] [--max-instructions N] [--port …] [--checkpoint-every T --checkpoint-dir DIR] [-- ARGS]</c>: runs a guest in the foreground.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var guest = new Argument<FileInfo>("guest") { Description = "RISC-V ELF executable to run" };
        var guestArguments = new Argument<string[]>("args")
        {
            Description = "arguments for the guest's main (put them after --)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var memory = CommonOptions.Memory();
        var maxInstructions = CommonOptions.MaxInstructions();
        var ports = CommonOptions.Ports();
        var stats = CommonOptions.Stats();
        var checkpointEvery = CommonOptions.CheckpointEvery();
        var checkpointDirectory = CommonOptions.CheckpointDirectory();

        var command = new Command("run", "Run a guest in the foreground: console to stdout, exit code = guest exit code")
        {
            guest, guestArguments, memory, maxInstructions, ports, stats, checkpointEvery, checkpointDirectory,
        };
        command.Validators.Add(CheckpointOptionsValidator(checkpointEvery, checkpointDirectory));
        command.SetAction(parse => Run(
            parse.GetValue(guest)!,
            parse.GetValue(guestArguments) ?? [],
            parse.GetValue(memory),
            parse.GetValue(maxInstructions),
            new ForegroundSettings(parse.GetValue(guest)!.Name, parse.GetValue(ports)!, parse.GetValue(stats), parse.GetValue(checkpointEvery), parse.GetValue(checkpointDirectory))));
        return command;
    }

    /// <summary>Periodic checkpoints need both the interval and the directory.</summary>
    internal static Action<System.CommandLine.Parsing.CommandResult> CheckpointOptionsValidator(Option<TimeSpan?> every, Option<DirectoryInfo?> directory) => result =>
    {
        var hasEvery = result.GetResult(every) is not null;
        var hasDirectory = result.GetResult(directory) is not null;
        if (hasEvery != hasDirectory)
        {
            result.AddError(hasEvery ? "--checkpoint-every needs --checkpoint-dir" : "--checkpoint-dir needs --checkpoint-every");
        }
    };

    private static int Run(FileInfo guest, string[] arguments, ulong memorySize, ulong? maxInstructions, ForegroundSettings settings)
    {
        using var stdout = Console.OpenStandardOutput();
        RiscVMachine machine;
        try
        {
            machine = RiscVMachine.Load(guest.FullName, new MachineOptions
            {
                MemorySize = memorySize,
                MaxInstructions = maxInstructions ?? ulong.MaxValue,
                Console = stdout,
                Arguments = arguments,
                Network = new PlainHostNetwork(),
                Ports = settings.Ports,
            });
        }
        catch (Exception e) when (e is ElfLoadException or ArgumentException)
        {
            Console.Error.WriteLine($"migration: {e.Message}");
            return 1;
        }
        catch (InsufficientMemoryException e)
        {
            Console.Error.WriteLine($"migration: {guest.Name}: {e.Message}");
            return 1;
        }

        using (machine)
        {
            return ForegroundRun.Run(machine, settings);
        }
    }
}
