using System.CommandLine;
using Migration.Host.Api;

namespace Migration.Cli.Commands;

/// <summary>
/// <c>migration vm restore --api ADDR FILE [--port GUEST:HOST]... [--name NAME] [--id ID]</c>: a VM (a new id, or the one
/// asked for) from a checkpoint file on the daemon's host; prints the id, and on stderr where its ports landed.
/// </summary>
internal static class VmRestoreCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "checkpoint file (.mck); an incremental one needs its parents beside it" };
        var api = ApiOptions.Api();
        var ports = ApiOptions.Ports();
        var name = ApiOptions.Name();
        var id = new Option<string?>("--id") { Description = "resume under this id (that of the VM the checkpoint stopped), so a relay holding its clients finds it" };
        var command = new Command("restore", "Restore a checkpoint as a new running VM; prints its id") { file, api, ports, name, id };
        command.SetAction((parse, token) => ApiCommand.RunAsync(parse.GetValue(api)!, async client =>
        {
            var request = new RestoreVmRequest(ApiOptions.Absolute(parse.GetValue(file)!.FullName), parse.GetValue(ports), parse.GetValue(name), parse.GetValue(id));
            var vm = await client.RestoreVmAsync(request, token).ConfigureAwait(false);
            foreach (var port in vm.Ports.Where(p => p.Host is not null))
            {
                await Console.Error.WriteLineAsync($"migration: {vm.Id}: guest {VmText.Port(port)}").ConfigureAwait(false);
            }

            await Console.Out.WriteLineAsync(vm.Id).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }
}
