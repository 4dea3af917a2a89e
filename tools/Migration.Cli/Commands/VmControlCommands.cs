using System.CommandLine;
using Migration.Host.Client;

namespace Migration.Cli.Commands;

/// <summary><c>migration vm pause|resume|delete --api ADDR ID</c>: one call each, one line saying what became of the VM.</summary>
internal static class VmControlCommands
{
    public static Command Pause() => Create("pause", "Pause a running VM (its vCPU stops; memory, sockets and console stay)", async (client, id, _, token) =>
    {
        await client.PauseVmAsync(id, token).ConfigureAwait(false);
        return $"{id} paused";
    });

    public static Command Resume()
    {
        var force = new Option<bool>("--force")
        {
            Description = "also resume a VM held after a migration of unknown outcome, once the destination is known not to run it",
        };
        var command = Create("resume", "Resume a paused VM", async (client, id, parse, token) =>
        {
            await client.ResumeVmAsync(id, parse.GetValue(force), token).ConfigureAwait(false);
            return $"{id} running";
        });
        command.Add(force);
        return command;
    }

    public static Command Delete() => Create("delete", "Terminate a VM and forget it; its memory and host ports are freed", async (client, id, _, token) =>
    {
        await client.DeleteVmAsync(id, token).ConfigureAwait(false);
        return $"{id} deleted";
    });

    private static Command Create(string name, string description, Func<ApiClient, string, ParseResult, CancellationToken, Task<string>> call)
    {
        var id = ApiOptions.VmId();
        var api = ApiOptions.Api();
        var command = new Command(name, description) { id, api };
        command.SetAction((parse, token) => ApiCommand.RunAsync(parse.GetValue(api)!, async client =>
        {
            var said = await call(client, parse.GetValue(id)!, parse, token).ConfigureAwait(false);
            await Console.Out.WriteLineAsync(said).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }
}
