using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Migration.Host.Api;

namespace Migration.Cli.Commands;

/// <summary>
/// <c>migration vm checkpoint --api ADDR ID --dir DIR [--incremental] [--stop]</c>: writes a checkpoint of a VM on the
/// daemon's host, showing progress while the job runs; prints the file on stdout and what was written on stderr.
/// </summary>
internal static class VmCheckpointCommand
{
    public static Command Create()
    {
        var id = ApiOptions.VmId();
        var api = ApiOptions.Api();
        var directory = new Option<DirectoryInfo>("--dir") { Description = "directory for the checkpoint file, on the daemon's host (created if missing)", Required = true };
        var incremental = new Option<bool>("--incremental") { Description = "only the pages changed since this VM's previous checkpoint in the same directory" };
        var stop = new Option<bool>("--stop") { Description = "the VM ends with this checkpoint (its connections go into the file, for a restore on this host)" };
        var command = new Command("checkpoint", "Checkpoint a VM to a file; the guest is paused only for the capture") { id, api, directory, incremental, stop };
        command.SetAction((parse, token) => ApiCommand.RunAsync(parse.GetValue(api)!, async client =>
        {
            var vm = parse.GetValue(id)!;
            var job = await client.CheckpointVmAsync(vm, new CheckpointRequest(ApiOptions.Absolute(parse.GetValue(directory)!.FullName), parse.GetValue(incremental), parse.GetValue(stop)), token).ConfigureAwait(false);
            var final = await JobProgressDisplay.FollowAsync(client, job, $"checkpoint of {vm}", token).ConfigureAwait(false);
            if (final.State != JobState.Succeeded || final.Result is not { } element)
            {
                await Console.Error.WriteLineAsync($"migration: {final.Error ?? $"job {final.Id} ended {final.State}"}").ConfigureAwait(false);
                return 1;
            }

            var r = element.Deserialize(HostJsonContext.Default.CheckpointJobResult)!;
            await Console.Out.WriteLineAsync(r.File).ConfigureAwait(false);
            await Console.Error.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"migration: checkpoint {Path.GetFileName(r.File)}: {(r.Incremental ? "incremental" : "full")}, {r.Pages} pages, {r.Bytes} bytes, guest paused {r.PausedMilliseconds:F1} ms{(parse.GetValue(stop) ? "; the VM stopped with it" : "")}")).ConfigureAwait(false);
            if (r.Note is { } note)
            {
                await Console.Error.WriteLineAsync($"migration: {note}").ConfigureAwait(false);
            }

            return 0;
        }));
        return command;
    }
}
