using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Migration.Host;

/// <summary>
/// Daemon log lines in the command line's own voice — <c>migration: vm-3f9c2a created from …</c> — instead of the
/// framework's category-and-event-id layout; warnings and errors say so, and an unexpected exception brings its stack.
/// </summary>
internal sealed class HostLogFormatter : ConsoleFormatter
{
    public const string FormatterName = "migration";

    public HostLogFormatter()
        : base(FormatterName)
    {
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
        {
            return;
        }

        var level = logEntry.LogLevel switch
        {
            LogLevel.Warning => "warning: ",
            LogLevel.Error or LogLevel.Critical => "error: ",
            _ => "",
        };
        textWriter.Write($"migration: {level}{message}\n");
        if (logEntry.Exception is { } e)
        {
            textWriter.Write($"{e}\n");
        }
    }
}
