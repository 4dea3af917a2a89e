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

    private DaemonProcess(
        string name, string directory, string secretFile, string? networkNamespace, string migrationAddress, IReadOnlyDictionary<string, string>? environment, string[] options)
    {
        Api = "unix:" + Path.Combine(directory, name + ".sock");
        MigrationAddress = migrationAddress;
        // In a namespace through ip netns exec, which execs the daemon itself: killing this process kills the daemon.
        string[] prefix = networkNamespace is null ? ["dotnet"] : ["ip", "netns", "exec", networkNamespace, "dotnet"];
        var start = new ProcessStartInfo(prefix[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in prefix.Skip(1).Concat([RepositoryPaths.Cli, "host", "--name", name, "--api", Api, "--migration-port", "0",
                     "--migration-address", migrationAddress, "--secret-file", secretFile, .. options]))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
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

    public string MigrationAddress { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public string MigrationEndpoint => $"{MigrationAddress}:{MigrationPort}";

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

    /// <param name="networkNamespace">Runs the daemon in this namespace (ip netns exec); its migration address must be one there.</param>
    public static async Task<DaemonProcess> StartAsync(
        string name, string directory, string secretFile, string? networkNamespace = null, string migrationAddress = "127.0.0.1", params string[] options) =>
        await WhenReadyAsync(new DaemonProcess(name, directory, secretFile, networkNamespace, migrationAddress, null, options));

    /// <summary>A daemon on loopback with extra environment variables (a fault to inject, …).</summary>
    public static Task<DaemonProcess> StartWithEnvironmentAsync(
        string name, string directory, string secretFile, IReadOnlyDictionary<string, string> environment, params string[] options) =>
        WhenReadyAsync(new DaemonProcess(name, directory, secretFile, null, "127.0.0.1", environment, options));

    /// <summary>Waits (bounded) for the process to end by itself and returns its exit code; 137 is SIGKILL.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the daemon did not exit within {timeout.TotalSeconds} s: {Log}");
        }

        return _process.ExitCode;
    }

    private static async Task<DaemonProcess> WhenReadyAsync(DaemonProcess daemon)
    {
        try
        {
            await daemon.Ready.WaitAsync(TimeSpan.FromSeconds(60));
            return daemon;
        }
        catch (TimeoutException)
        {
            daemon.Dispose();
            throw new TimeoutException($"host {daemon.Api} did not say it was ready: {daemon.Log}");
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
