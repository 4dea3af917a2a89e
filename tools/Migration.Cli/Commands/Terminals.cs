using Spectre.Console;

namespace Migration.Cli.Commands;

/// <summary>
/// Spectre.Console renderers for stdout (tables) and stderr (progress). Output that goes to a file or a pipe gets a
/// wide fixed width, so a table row is never wrapped into pieces a script would have to glue back together.
/// </summary>
internal static class Terminals
{
    private const int RedirectedWidth = 200;

    public static IAnsiConsole Out() => Create(Console.Out, Console.IsOutputRedirected);

    public static IAnsiConsole Error() => Create(Console.Error, Console.IsErrorRedirected);

    private static IAnsiConsole Create(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
        });
        if (redirected)
        {
            console.Profile.Width = RedirectedWidth;
        }

        return console;
    }
}
