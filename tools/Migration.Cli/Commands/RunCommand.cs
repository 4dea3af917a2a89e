using System.Diagnostics;
using System.Runtime.InteropServices;
using System.CommandLine;
using Migration.Core.Memory;
using Migration.Core.Sockets;
using Migration.Machine.RiscV;
using Migration.Machine.RiscV.Loader;
using Migration.Networking.Plain;

namespace Migration.Cli.Commands;

/// <summary><c>migration run GUEST [--memory SIZE] [--max-instructions N] [-- ARGS]</c>: runs a guest in the foreground.</summary>
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
        var memory = new Option<ulong>("--memory")
        {
            Description = "guest RAM size (e.g. 64M, 1G)",
            DefaultValueFactory = _ => GuestMemory.DefaultSize,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!ByteSize.TryParse(text, out var size))
                {
                    result.AddError($"--memory: '{text}' is not a size (examples: 64M, 256MiB, 1G)");
                }
                else if (size < GuestMemory.MinimumSize || size > GuestMemory.MaximumSize || size % GuestMemory.PageSize != 0)
                {
                    result.AddError($"--memory: {text} must be a whole number of 4 KiB pages between 1 MiB and {GuestMemory.MaximumSize >> 30} GiB");
                }

                return size;
            },
        };
        var maxInstructions = new Option<ulong?>("--max-instructions") { Description = "stop after this many guest instructions" };
        var ports = new Option<PortMap>("--port")
        {
            Description = "map a guest port to the host: GUEST:HOST or GUEST:ADDR:HOST (repeatable; unmapped ports use the same port on 127.0.0.1)",
            AllowMultipleArgumentsPerToken = false,
            DefaultValueFactory = _ => new PortMap(),
            CustomParser = result =>
            {
                var map = new PortMap();
                foreach (var token in result.Tokens)
                {
                    if (!PortMap.TryParseEntry(token.Value, out var guestPort, out var host, out var error))
                    {
                        result.AddError($"--port: {error}");
                        continue;
                    }

                    if (map.Entries.ContainsKey(guestPort))
                    {
                        result.AddError($"--port: guest port {guestPort} is mapped twice");
                        continue;
                    }

                    map.Add(guestPort, host!);
                }

                return map;
            },
        };
        var stats = new Option<bool>("--stats") { Description = "print instructions retired, run time and guest MIPS to stderr at the end" };

        var command = new Command("run", "Run a guest in the foreground: console to stdout, exit code = guest exit code")
        {
            guest, guestArguments, memory, maxInstructions, ports, stats,
        };
        command.SetAction(parse => Run(
            parse.GetValue(guest)!,
            parse.GetValue(guestArguments) ?? [],
            parse.GetValue(memory),
            parse.GetValue(maxInstructions),
            parse.GetValue(ports)!,
            parse.GetValue(stats)));
        return command;
    }

    private static int Run(FileInfo guest, string[] arguments, ulong memorySize, ulong? maxInstructions, PortMap ports, bool stats)
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
                Ports = ports,
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
            foreach (var (guestPort, host) in ports.Entries)
            {
                Console.Error.WriteLine($"migration: port {guestPort} -> {host}");
            }

            machine.Sockets!.Bound += (socket, host) =>
                Console.Error.WriteLine($"migration: guest {socket.Protocol.ToString().ToLowerInvariant()} {socket.LocalAddress} is host {socket.HostEndpoint ?? host.ToString()}");

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

            var started = Stopwatch.GetTimestamp();
            var exit = machine.Run();
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (stats)
            {
                Console.Error.WriteLine(
                    $"migration: {exit.InstructionsRetired} instructions in {elapsed.TotalSeconds:F3} s = {exit.InstructionsRetired / elapsed.TotalSeconds / 1e6:F0} MIPS");
            }

            if (exit.Kind != MachineExitKind.Exited)
            {
                Console.Error.WriteLine($"migration: {guest.Name}: {exit}");
            }

            return exit.Kind == MachineExitKind.Terminated && signalExitCode != 0 ? signalExitCode : exit.ProcessExitCode;
        }
    }
}
