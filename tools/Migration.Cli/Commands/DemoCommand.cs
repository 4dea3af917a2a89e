using System.CommandLine;
using Migration.Cli.Demo;

namespace Migration.Cli.Commands;

/// <summary>
/// <c>migration demo [--migrations N] [--interval 1s] [--memory SIZE]</c>: two hosts, the kv guest under client load,
/// migrations back and forth, a stop checkpoint and its resume, and a table of what each cost.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var migrations = new Option<int>("--migrations") { Description = "migrations back and forth between the two hosts", DefaultValueFactory = _ => 6 };
        migrations.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 200)
            {
                r.AddError("--migrations: give 1..200");
            }
        });
        var interval = new Option<string>("--interval") { Description = "load time before each step, such as 1s or 500ms", DefaultValueFactory = _ => "1s" };
        var memory = CommonOptions.Memory();
        memory.DefaultValueFactory = _ => 64UL << 20;
        var command = new Command("demo", "Two hosts, the kv guest under client load, migrations back and forth, a checkpoint and resume; prints a table") { migrations, interval, memory };
        command.SetAction(async (parse, token) =>
        {
            if (!Duration.TryParse(parse.GetValue(interval) ?? "", out var pause) || pause > TimeSpan.FromMinutes(1))
            {
                await Console.Error.WriteLineAsync($"migration: --interval: '{parse.GetValue(interval)}' is not a duration up to 1 minute (such as 1s or 500ms)").ConfigureAwait(false);
                return 2;
            }

            try
            {
                return await new DemoRun(parse.GetValue(migrations), parse.GetValue(memory), pause, Console.Error).RunAsync(token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or Host.Client.HostUnreachableException or Host.Api.ApiException)
            {
                await Console.Error.WriteLineAsync($"migration: demo: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }
}
