using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Migration.Host.Client;

namespace Migration.Host.Tests;

/// <summary>
/// A real <c>migration host</c> process on a temp Unix socket (or a loopback port, with its token file under a runtime
/// directory of the test's), with the migration port the system picked.
/// </summary>
internal sealed partial class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private string _api;

    private DaemonProcess(
        string name,
        string directory,
        string secretFile,
        string? networkNamespace,
        string migrationAddress,
        string? runtimeDirectory,
        IReadOnlyDictionary<string, string>? environment,
        string[] options)
    {
        _api = runtimeDirectory is null ? "unix:" + Path.Combine(directory, name + ".sock") : "127.0.0.1:0";
        RuntimeDirectory = runtimeDirectory;
        MigrationAddress = migrationAddress;
        // In a namespace through ip netns exec, which execs the daemon itself: killing this process kills the daemon.
        string[] prefix = networkNamespace is null ? ["dotnet"] : ["ip", "netns", "exec", networkNamespace, "dotnet"];
        var start = new ProcessStartInfo(prefix[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (runtimeDirectory is not null)
        {
            start.Environment["XDG_RUNTIME_DIR"] = runtimeDirectory;
        }

        foreach (var argument in prefix.Skip(1).Concat([RepositoryPaths.Cli, "host", "--name", name, "--api", _api, "--migration-port", "0",
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
                Volatile.Write(ref _api, match.Groups[1].Value);
                ready.TrySetResult(int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
            }
        };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        Ready = ready.Task;
    }

    /// <summary>The API address; for a loopback daemon, the port it got (known once it is ready).</summary>
    public string Api => Volatile.Read(ref _api);

    /// <summary>The XDG_RUNTIME_DIR the daemon runs with, whose <c>migration/</c> holds its token file; null for a Unix socket API.</summary>
    public string? RuntimeDirectory { get; }

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
        await WhenReadyAsync(new DaemonProcess(name, directory, secretFile, networkNamespace, migrationAddress, null, null, options));

    /// <summary>A daemon on loopback with extra environment variables (a fault to inject, …).</summary>
    public static Task<DaemonProcess> StartWithEnvironmentAsync(
        string name, string directory, string secretFile, IReadOnlyDictionary<string, string> environment, params string[] options) =>
        WhenReadyAsync(new DaemonProcess(name, directory, secretFile, null, "127.0.0.1", null, environment, options));

    /// <summary>A daemon whose API is a loopback port; its token goes to <paramref name="runtimeDirectory"/>/migration.</summary>
    public static Task<DaemonProcess> StartOnLoopbackAsync(string name, string directory, string secretFile, string runtimeDirectory, params string[] options) =>
        WhenReadyAsync(new DaemonProcess(name, directory, secretFile, null, "127.0.0.1", runtimeDirectory, null, options));

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

    public ApiClient Client() =>
        new(ApiAddress.Parse(Api), tokenDirectory: RuntimeDirectory is null ? null : Path.Combine(RuntimeDirectory, "migration"));

    /// <summary>SIGTERM, and the wait for the orderly exit.</summary>
    public async Task StopAsync()
    {
        Signals.Terminate(_process);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

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

    [GeneratedRegex(@" ready: api (\S+).*, migration port (\d+)$")]
    private static partial Regex ReadyLine();
}
