using System.CommandLine;
using System.Text.Json;
using Migration.Host.Api;

namespace Migration.Cli.Commands;

/// <summary><c>migration vm show --api ADDR ID [--json]</c>: one VM in detail: state, exit, memory, ports.</summary>
internal static class VmShowCommand
{
    public static Command Create()
    {
        var id = ApiOptions.VmId();
        var api = ApiOptions.Api();
        var json = new Option<bool>("--json") { Description = "print the API's JSON instead of a table" };
        var command = new Command("show", "Show one VM: state, exit, memory, ports") { id, api, json };
        command.SetAction((parse, token) => ApiCommand.RunAsync(parse.GetValue(api)!, async client =>
        {
            var vm = await client.GetVmAsync(parse.GetValue(id)!, token).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(vm, HostJsonContext.Default.VmInfo)).ConfigureAwait(false);
            }
            else
            {
                Terminals.Out().Write(VmTables.Details(vm));
            }

            return 0;
        }));
        return command;
    }
}
