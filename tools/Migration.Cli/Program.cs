using System.CommandLine;
using Migration.Cli.Commands;

var root = new RootCommand("Migration: run, checkpoint and live-migrate virtual machines")
{
    RunCommand.Create(),
    ResumeCommand.Create(),
    InspectCommand.Create(),
    BenchCommand.Create(),
    HostCommand.Create(),
    VmCommand.Create(),
    MigrateCommand.Create(),
    RelayCommand.Create(),
    DemoCommand.Create(),
};

var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
if (parse.Errors.Count > 0)
{
    // One line per problem on stderr; the full help is one `--help` away and would bury the error.
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"migration: {error.Message}");
    }

    return 2;
}

return parse.Invoke();
