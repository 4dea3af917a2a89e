using System.CommandLine;
using Migration.Host.Api;

namespace Migration.Cli.Commands;

/// <summary><c>migration vm create --api ADDR GUEST [--memory SIZE] [--port GUEST:HOST]... [--name NAME] [--service-address ADDR/PREFIX@IF] [-- ARGS]</c>: prints the new VM's id.</summary>
internal static class VmCreateCommand
{
    public static Command Create()
    {
        var guest = new Argument<FileInfo>("guest") { Description = "RISC-V ELF executable, on the daemon's host" };
        var guestArguments = new Argument<string[]>("args")
        {
            Description = "arguments for the guest's main (put them after --)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var api = ApiOptions.Api();
        var memory = CommonOptions.Memory();
        var ports = ApiOptions.Ports();
        var name = ApiOptions.Name();
        var serviceAddress = new Option<string>("--service-address")
        {
            Description = "ADDR/PREFIX@INTERFACE put on this host's interface for the VM and moved with it on migration (needs TCP repair); map ports onto it, e.g. --port 6379:ADDR:6379",
        };
        var command = new Command("create", "Create a VM from a guest ELF and start it; prints its id") { guest, guestArguments, api, memory, ports, name, serviceAddress };
        command.SetAction((parse, token) => ApiCommand.RunAsync(parse.GetValue(api)!, async client =>
        {
            var request = new CreateVmRequest(
                ApiOptions.Absolute(parse.GetValue(guest)!.FullName),
                parse.GetValue(memory),
                parse.GetValue(ports),
                parse.GetValue(guestArguments) ?? [],
                parse.GetValue(name),
                parse.GetValue(serviceAddress));
            var vm = await client.CreateVmAsync(request, token).ConfigureAwait(false);
            await Console.Out.WriteLineAsync(vm.Id).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }
}
