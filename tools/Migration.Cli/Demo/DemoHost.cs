using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Migration.Host;
using Migration.Host.Client;

namespace Migration.Cli.Demo;

/// <summary>
/// One host of the demo: this same program run as <c>migration host</c> in a child process, on a Unix API socket in the
/// demo's directory, with the migration port the system picks (read from the daemon's ready line).
/// </summary>
internal sealed partial class DemoHost : IDisposable
{
    private const int SigTerm = 15;
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource<int> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DemoHost(string name, string directory, string secretFile, IReadOnlyList<string> options)
    {
        Name = name;
        Api = ApiAddress.Unix(Path.Combine(directory, name + ".sock"));
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // Run through the dotnet host, as tools/migration does: ProcessPath is dotnet, the program is this assembly.
        foreach (var argument in new[] { typeof(DemoHost).Assembly.Location, "host", "--name", name, "--api", "unix:" + Path.Combine(directory, name + ".sock"), "--migration-port", "0", "--secret-file", secretFile }.Concat(options))
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException($"host {name} could not be started");
        _process.ErrorDataReceived += (_, line) =>
        {
            lock (_log)
            {
                _log.AppendLine(line.Data);
            }

            if (line.Data is { } text && ReadyLine().Match(text) is { Success: true } match)
            {
                _ready.TrySetResult(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        };
        _process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException($"host {name} exited before it was ready: {Log}"));
        _process.EnableRaisingEvents = true;
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public string Name { get; }

    public ApiAddress Api { get; }

    public string MigrationEndpoint => $"127.0.0.1:{_ready.Task.Result}";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString().Trim();
            }
        }
    }

    /// <param name="options">More options of <c>migration host</c>, such as the network backend.</param>
    public static async Task<DemoHost> StartAsync(string name, string directory, string secretFile, IReadOnlyList<string> options, CancellationToken cancellationToken)
    {
        var host = new DemoHost(name, directory, secretFile, options);
        try
        {
            await host._ready.Task.WaitAsync(StartLimit, cancellationToken).ConfigureAwait(false);
            return host;
        }
        catch (TimeoutException e)
        {
            host.Dispose();
            throw new TimeoutException($"host {name} did not say it was ready within {StartLimit.TotalSeconds:0} s: {host.Log}", e);
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    public ApiClient Client() => new(Api);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            // SIGTERM, as a service manager stops a daemon: it stops its VMs and lets go of what it set up. .NET itself
            // can only SIGKILL, which remains for a daemon that does not stop in time.
            if (Kill(_process.Id, SigTerm) != 0 || !_process.WaitForExit(10_000))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(30_000);
            }
        }

        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [GeneratedRegex(@" ready: api .*, migration port (\d+)$")]
    private static partial Regex ReadyLine();
}
