using System.CommandLine;

namespace Migration.Cli.Commands;

/// <summary>
/// <c>migration vm console --api ADDR ID [--follow]</c>: the guest's console output, byte for byte, on stdout; with
/// --follow it keeps long-polling from where it stopped until the VM ends.
/// </summary>
internal static class VmConsoleCommand
{
    public static Command Create()
    {
        var id = ApiOptions.VmId();
        var api = ApiOptions.Api();
        var follow = new Option<bool>("--follow", "-f") { Description = "keep printing new output until the VM ends (Ctrl+C stops)" };
        var command = new Command("console", "Print a VM's console output (the daemon keeps the last 1 MiB)") { id, api, follow };
        command.SetAction((parse, token) => ApiCommand.RunAsync(parse.GetValue(api)!, async client =>
        {
            var vm = parse.GetValue(id)!;
            var following = parse.GetValue(follow);
            var stdout = Console.OpenStandardOutput();
            await using (stdout.ConfigureAwait(false))
            {
                var offset = 0L;
                while (true)
                {
                    var chunk = await client.ReadConsoleAsync(vm, offset, wait: following, token).ConfigureAwait(false);
                    if (chunk.Missed > 0)
                    {
                        await Console.Error.WriteLineAsync($"migration: {chunk.Missed} bytes of {vm}'s output before this are no longer kept").ConfigureAwait(false);
                    }

                    try
                    {
                        await stdout.WriteAsync(chunk.Data, token).ConfigureAwait(false);
                        await stdout.FlushAsync(token).ConfigureAwait(false);
                    }
                    catch (IOException)
                    {
                        // The reader went away (`| head`): like cat, stop without a complaint.
                        return 0;
                    }

                    offset = chunk.NextOffset;
                    if (!following || chunk.Ended)
                    {
                        return 0;
                    }
                }
            }
        }));
        return command;
    }
}
