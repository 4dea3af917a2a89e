using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Migration.Host.Client;

namespace Migration.Host.Tests;

/// <summary>A real <c>migration host</c> process on a temp Unix socket, with the migration port the system picked.</summary>
internal sealed partial class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private DaemonProcess(string name, string directory, string secretFile)
    {
        Api = "unix:" + Path.Combine(directory, name + ".sock");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { RepositoryPaths.Cli, "host", "--name", name, "--api", Api, "--migration-port", "0", "--secret-file", secretFile })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process.ErrorDataReceived += (_, line) =>
        {
            lock (_log)
            {
                _log.AppendLine(line.Data);
            }

            if (line.Data is { } text && ReadyLine().Match(text) is { Success: true } match)
            {
                ready.TrySetResult(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        Ready = ready.Task;
    }

    public string Api { get; }

    public Task<int> Ready { get; }

    public int MigrationPort => Ready.Result;

    public string MigrationEndpoint => $"127.0.0.1:{MigrationPort}";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<DaemonProcess> StartAsync(string name, string directory, string secretFile)
    {
        var daemon = new DaemonProcess(name, directory, secretFile);
        try
        {
            await daemon.Ready.WaitAsync(TimeSpan.FromSeconds(60));
            return daemon;
        }
        catch (TimeoutException)
        {
            daemon.Dispose();
            throw new TimeoutException($"host {name} did not say it was ready: {daemon.Log}");
        }
    }

    public ApiClient Client() => new(ApiAddress.Parse(Api));

    /// <summary>SIGKILL: what a crashed host looks like to its peer.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit(30_000);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(30_000);
        }

        _process.Dispose();
    }

    [GeneratedRegex(@" ready: api .*, migration port (\d+)$")]
    private static partial Regex ReadyLine();
}
