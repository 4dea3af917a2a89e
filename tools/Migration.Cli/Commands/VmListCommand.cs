using System.CommandLine;
using System.Text.Json;
using Migration.Host.Api;

namespace Migration.Cli.Commands;

/// <summary><c>migration vm list --api ADDR [--json]</c>: every VM of the daemon, as a table.</summary>
internal static class VmListCommand
{
    public static Command Create()
    {
        var api = ApiOptions.Api();
        var json = new Option<bool>("--json") { Description = "print the API's JSON instead of a table" };
        var command = new Command("list", "List the daemon's VMs") { api, json };
        command.SetAction((parse, token) => ApiCommand.RunAsync(parse.GetValue(api)!, async client =>
        {
            var vms = await client.ListVmsAsync(token).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(vms, HostJsonContext.Default.ListVmInfo)).ConfigureAwait(false);
            }
            else if (vms.Count == 0)
            {
                await Console.Error.WriteLineAsync($"migration: no VMs at {client.Address}").ConfigureAwait(false);
            }
            else
            {
                Terminals.Out().Write(VmTables.List(vms));
            }

            return 0;
        }));
        return command;
    }
}
