using System.CommandLine;

namespace Migration.Cli.Commands;

/// <summary><c>migration vm …</c>: the VMs of a running host daemon, through its control API.</summary>
internal static class VmCommand
{
    public static Command Create() => new("vm", "Create, list, control, checkpoint and restore the VMs of a running host daemon (see: migration host)")
    {
        VmCreateCommand.Create(),
        VmListCommand.Create(),
        VmShowCommand.Create(),
        VmControlCommands.Pause(),
        VmControlCommands.Resume(),
        VmControlCommands.Delete(),
        VmConsoleCommand.Create(),
        VmCheckpointCommand.Create(),
        VmRestoreCommand.Create(),
    };
}
