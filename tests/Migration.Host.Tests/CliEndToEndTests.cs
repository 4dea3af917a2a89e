using System.Diagnostics;
using System.Text;
using Migration.Machine.Tests.Guests;

namespace Migration.Host.Tests;

/// <summary>The real command line as processes: <c>migration host</c> in the background, <c>migration vm …</c> against it.</summary>
[Trait("Category", "EndToEnd")]
public sealed class CliEndToEndTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly string _directory = Directory.CreateTempSubdirectory("migration-cli-").FullName;

    [Fact]
    public async Task Host_and_vm_commands_run_create_list_console_checkpoint_restore_and_delete()
    {
        var socket = Path.Combine(_directory, "api.sock");
        var api = "unix:" + socket;
        var secret = TestDaemon.WriteSecret(_directory, "correct horse battery staple", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var host = StartHost("--name", "e2e", "--api", api, "--migration-port", "0", "--secret-file", secret);
        try
        {
            await DriveAsync(host, socket, api);
        }
        finally
        {
            // A failed assertion must not leave a daemon behind.
            if (!host.HasExited)
            {
                host.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task The_host_refuses_a_secret_others_can_read_in_one_line()
    {
        var secret = TestDaemon.WriteSecret(_directory, "correct horse battery staple", (UnixFileMode)0b110_100_100);
        var (code, output, error) = await ProcessRunner.CliAsync(
            "host", "--api", "unix:" + Path.Combine(_directory, "api.sock"), "--migration-port", "7000", "--secret-file", secret);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal($"migration: secret file {secret} has mode 0644: group and others must have no access (chmod 600 {secret})\n", error);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task DriveAsync(Process host, string socket, string api)
    {
        var hostErrors = new StringBuilder();
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.ErrorDataReceived += (_, line) =>
        {
            lock (hostErrors)
            {
                hostErrors.AppendLine(line.Data);
            }

            if (line.Data?.Contains(" ready: ", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult(line.Data);
            }
        };
        host.BeginErrorReadLine();
        var exited = host.WaitForExitAsync();
        if (await Task.WhenAny(ready.Task, exited, Task.Delay(Bound)) != ready.Task)
        {
            Assert.Fail($"the host did not say it was ready: {hostErrors}");
        }

        Assert.Matches($@"^migration: host e2e ready: api {System.Text.RegularExpressions.Regex.Escape(api)}, migration port [1-9][0-9]*$", await ready.Task);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));

        var created = await CliAsync(0, "vm", "create", "--api", api, RepositoryPaths.Guest("counter"), "--memory", "64M", "--", "3", "500000");
        var id = created.Trim();
        Assert.Matches("^vm-[0-9a-f]{6}$", id);
        Assert.Contains(id, await CliAsync(0, "vm", "list", "--api", api), StringComparison.Ordinal);

        // --follow long-polls until the guest ends, so its output is complete.
        Assert.Equal(CounterReference.Output(3, 500_000), await CliAsync(0, "vm", "console", "--api", api, id, "--follow"));
        var shown = await CliAsync(0, "vm", "show", "--api", api, id);
        Assert.Contains("exited with code 0", shown, StringComparison.Ordinal);
        Assert.Equal($"migration: {id} has exited with code 0: it cannot be paused\n", await CliErrorAsync("vm", "pause", "--api", api, id));
        Assert.Equal($"{id} deleted\n", await CliAsync(0, "vm", "delete", "--api", api, id));
        Assert.Equal($"migration: no VM {id} on this host\n", await CliErrorAsync("vm", "show", "--api", api, id));

        var idle = (await CliAsync(0, "vm", "create", "--api", api, RepositoryPaths.Guest("idle"), "--memory", "32M", "--name", "sleeper")).Trim();
        Assert.Equal($"{idle} paused\n", await CliAsync(0, "vm", "pause", "--api", api, idle));
        var file = (await CliAsync(0, "vm", "checkpoint", "--api", api, idle, "--dir", Path.Combine(_directory, "ck"))).Trim();
        Assert.True(File.Exists(file), file);
        Assert.Equal($"{idle} running\n", await CliAsync(0, "vm", "resume", "--api", api, idle));
        var restored = (await CliAsync(0, "vm", "restore", "--api", api, file)).Trim();
        var list = await CliAsync(0, "vm", "list", "--api", api);
        Assert.Contains(idle, list, StringComparison.Ordinal);
        Assert.Contains(restored, list, StringComparison.Ordinal);
        Assert.Contains("sleeper", list, StringComparison.Ordinal);

        var missing = Path.Combine(_directory, "none.sock");
        Assert.Equal($"migration: no daemon answers at unix:{missing}: no such socket file\n", await CliErrorAsync("vm", "list", "--api", "unix:" + missing));

        // SIGTERM: the daemon terminates its VMs, removes its socket and exits 0.
        Signals.Terminate(host);
        await exited.WaitAsync(Bound);
        Assert.True(host.ExitCode == 0, $"host exit code {host.ExitCode}: {hostErrors}");
        Assert.False(File.Exists(socket));
        Assert.Contains("migration: host e2e stopping: terminating 2 VM(s)", hostErrors.ToString(), StringComparison.Ordinal);
    }

    private static Process StartHost(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Root,
        };
        start.ArgumentList.Add(RepositoryPaths.Cli);
        start.ArgumentList.Add("host");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    private static async Task<string> CliAsync(int expectedCode, params string[] arguments)
    {
        var (code, output, error) = await ProcessRunner.CliAsync(arguments);
        Assert.True(code == expectedCode, $"migration {string.Join(' ', arguments)} exited {code}: {error}");
        return output;
    }

    /// <summary>Runs a command that must fail the API's way: exit code 1, nothing on stdout; returns stderr.</summary>
    private static async Task<string> CliErrorAsync(params string[] arguments)
    {
        var (code, output, error) = await ProcessRunner.CliAsync(arguments);
        Assert.True(code == 1, $"migration {string.Join(' ', arguments)} exited {code}: {output}{error}");
        Assert.Equal("", output);
        return error;
    }
}
