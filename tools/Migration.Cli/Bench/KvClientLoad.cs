using System.Diagnostics;
using System.Globalization;
using System.Net;
using Migration.Cli.Demo;

namespace Migration.Cli.Bench;

/// <summary>
/// The load the kv guest runs under while the downtime benchmark migrates it: the real <c>redis-benchmark</c>
/// (20 clients, bounded in requests and killed when the cell ends), or, where it is not installed, the demo's own INCR
/// clients.
/// </summary>
internal sealed class KvClientLoad : IAsyncDisposable
{
    private const int Clients = 20;
    private const int Requests = 10_000_000;

    private readonly Process? _process;
    private readonly KvLoad? _builtIn;
    private readonly CancellationTokenSource _limit;
    private readonly Lock _gate = new();
    private string _lastError = "";

    private KvClientLoad(Process? process, KvLoad? builtIn, string description, TimeSpan limit)
    {
        _process = process;
        _builtIn = builtIn;
        Description = description;
        _limit = new CancellationTokenSource(limit);
        // The time bound: a load that outlives its cell (a crashed benchmark) is stopped all the same.
        _limit.Token.Register(Kill);
    }

    public string Description { get; }

    /// <summary>Why the load ended before it was stopped, or null while it runs.</summary>
    public string? Failure
    {
        get
        {
            // Exit code 0 is all its requests answered, which a long cell may see: a load that ended, not one that failed.
            if (_process is { HasExited: true } process && process.ExitCode != 0)
            {
                lock (_gate)
                {
                    return $"redis-benchmark exited {process.ExitCode}: {_lastError}".TrimEnd(' ', ':');
                }
            }

            return _builtIn is { Errors: > 0 } load ? $"{load.Errors} client errors, the last: {load.LastError}" : null;
        }
    }

    public static KvClientLoad Start(IPEndPoint server, TimeSpan limit)
    {
        if (FindOnPath("redis-benchmark") is not { } benchmark)
        {
            return new KvClientLoad(null, new KvLoad(server, 8), "the built-in INCR load (8 clients; redis-benchmark is not installed: tools/setup.sh installs redis-tools)", limit);
        }

        var start = new ProcessStartInfo(benchmark)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "-h", server.Address.ToString(), "-p", server.Port.ToString(CultureInfo.InvariantCulture),
            "-c", Clients.ToString(CultureInfo.InvariantCulture), "-n", Requests.ToString(CultureInfo.InvariantCulture),
            "-t", "set,get,incr", "-q",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{benchmark} could not be started");
        var load = new KvClientLoad(process, null, $"redis-benchmark -c {Clients} -n {Requests} -t set,get,incr", limit);
        // Its progress lines are of no use here, but must be read so the pipe never fills.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, line) =>
        {
            if (!string.IsNullOrWhiteSpace(line.Data))
            {
                lock (load._gate)
                {
                    load._lastError = line.Data.Trim();
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return load;
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        if (_process is not null)
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            _process.Dispose();
        }

        if (_builtIn is not null)
        {
            await _builtIn.DisposeAsync().ConfigureAwait(false);
        }

        _limit.Dispose();
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

    private void Kill()
    {
        try
        {
            if (_process is { HasExited: false })
            {
                _process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
    }
}
