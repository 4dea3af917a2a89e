using System.Diagnostics;

namespace Migration.Machine.Tests.EndToEnd;

/// <summary>Runs a real client program from Debian (redis-benchmark, redis-cli, nc) with a time bound.</summary>
internal static class ExternalTool
{
    public static string Require(string program, string package)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var path = Path.Combine(dir, program);
            if (File.Exists(path))
            {
                return path;
            }
        }

        Assert.Fail($"{program} is not installed: run tools/setup.sh (it installs the Debian package {package})");
        return "";
    }

    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string program, IEnumerable<string> arguments, TimeSpan timeout, byte[]? input = null)
    {
        var (code, output, error) = await RunBinaryAsync(program, arguments, input ?? [], timeout);
        return (code, System.Text.Encoding.Latin1.GetString(output), error);
    }

    /// <summary>Feeds <paramref name="input"/> to the program's stdin (then closes it) while collecting stdout as bytes.</summary>
    public static async Task<(int ExitCode, byte[] Output, string Error)> RunBinaryAsync(string program, IEnumerable<string> arguments, byte[] input, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        var write = Task.Run(async () =>
        {
            await process.StandardInput.BaseStream.WriteAsync(input);
            process.StandardInput.Close();
        });
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(program)} {string.Join(' ', start.ArgumentList)} did not finish within {timeout.TotalSeconds} s");
        }

        await write;
        await copyOut;
        return (process.ExitCode, stdout.ToArray(), await stderr);
    }
}
