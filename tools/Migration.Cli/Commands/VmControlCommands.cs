using System.CommandLine;
using Migration.Host.Client;

namespace Migration.Cli.Commands;

/// <summary><c>migration vm pause|resume|delete --api ADDR ID</c>: one call each, one line saying what became of the VM.</summary>
internal static class VmControlCommands
{
    public static Command Pause() => Create("pause", "Pause a running VM (its vCPU stops; memory, sockets and console stay)", async (client, id, token) =>
    {
        await client.PauseVmAsync(id, token).ConfigureAwait(false);
        return $"{id} paused";
    });

    public static Command Resume() => Create("resume", "Resume a paused VM", async (client, id, token) =>
    {
        await client.ResumeVmAsync(id, token).ConfigureAwait(false);
        return $"{id} running";
    });

    public static Command Delete() => Create("delete", "Terminate a VM and forget it; its memory and host ports are freed", async (client, id, token) =>
    {
        await client.DeleteVmAsync(id, token).ConfigureAwait(false);
        return $"{id} deleted";
    });

    private static Command Create(string name, string description, Func<ApiClient, string, CancellationToken, Task<string>> call)
    {
        var id = ApiOptions.VmId();
        var api = ApiOptions.Api();
        var command = new Command(name, description) { id, api };
        command.SetAction((parse, token) => ApiCommand.RunAsync(parse.GetValue(api)!, async client =>
        {
            var said = await call(client, parse.GetValue(id)!, token).ConfigureAwait(false);
            await Console.Out.WriteLineAsync(said).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }
}
