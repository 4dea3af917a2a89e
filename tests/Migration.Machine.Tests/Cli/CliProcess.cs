using System.Diagnostics;

namespace Migration.Machine.Tests.Cli;

/// <summary>Runs the real command-line tool as a child process, as a user would.</summary>
internal static class CliProcess
{
    public static (int ExitCode, string StandardOutput, string StandardError) Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Root,
        };
        start.ArgumentList.Add(RepositoryPaths.Cli);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"migration {string.Join(' ', arguments)} did not finish in 60 s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
