using System.CommandLine;
using Migration.Core.Memory;
using Migration.Core.Sockets;

namespace Migration.Cli.Commands;

/// <summary>Options shared by the commands that run a guest (run, resume): one definition, one error wording.</summary>
internal static class CommonOptions
{
    public static Option<ulong> Memory() => new("--memory")
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

    public static Option<ulong?> MaxInstructions() => new("--max-instructions")
    {
        Description = "stop once the guest has retired this many instructions in all (a resumed guest counts from its start)",
    };

    public static Option<PortMap> Ports() => new("--port")
    {
        Description = "map a guest port to the host: GUEST:HOST or GUEST:ADDR:HOST (repeatable; unmapped ports use the same port on 127.0.0.1)",
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => new PortMap(),
        CustomParser = result =>
        {
            if (!PortMap.TryParse(result.Tokens.Select(t => t.Value), out var map, out var errors))
            {
                foreach (var error in errors)
                {
                    result.AddError($"--port: {error}");
                }
            }

            return map;
        },
    };

    public static Option<bool> Stats() => new("--stats") { Description = "print instructions retired, run time and guest MIPS to stderr at the end" };

    public static Option<TimeSpan?> CheckpointEvery() => new("--checkpoint-every")
    {
        Description = "take a checkpoint at this interval (e.g. 500ms, 2s): the first full, the next ones incremental; needs --checkpoint-dir",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (!Duration.TryParse(text, out var interval) || interval < TimeSpan.FromMilliseconds(1))
            {
                result.AddError($"--checkpoint-every: '{text}' is not a duration of at least 1ms (examples: 500ms, 2s, 1m)");
            }

            return interval;
        },
    };

    public static Option<DirectoryInfo?> CheckpointDirectory() => new("--checkpoint-dir")
    {
        Description = "directory for the checkpoint files (created if missing)",
    };
}
