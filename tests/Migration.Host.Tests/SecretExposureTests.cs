using Migration.Host.Api;
using Migration.Host.Client;

namespace Migration.Host.Tests;

/// <summary>
/// Real daemons on loopback APIs, driven by the real CLI: the token is found by the daemon's user and by no one else,
/// and neither the shared secret nor a token ever shows in what the daemons log, the jobs report or the CLI prints.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class SecretExposureTests : IDisposable
{
    private const string Secret = "kX9-secret-that-must-stay-hidden-7Qz";
    private const string OtherSecret = "pL4-another-secret-never-to-be-seen-2Wm";

    private readonly string _directory = Directory.CreateTempSubdirectory("migration-secrets-").FullName;

    [Fact]
    public async Task The_cli_finds_the_token_of_the_daemons_user_and_without_it_fails_in_one_line()
    {
        var runtime = Runtime("a");
        using var a = await DaemonProcess.StartOnLoopbackAsync("a", _directory, WriteSecret("a", Secret), runtime);
        Assert.Matches(@"^127\.0\.0\.1:[1-9][0-9]*$", a.Api);

        var listed = await CliAsync(runtime, "vm", "list", "--api", a.Api);
        Assert.True(listed.Code == 0, listed.Error);

        var stranger = Runtime("stranger");
        var refused = await CliAsync(stranger, "vm", "list", "--api", a.Api);
        var path = Path.Combine(stranger, "migration", $"api-{a.Api.Replace(':', '-')}.token");
        Assert.Equal(1, refused.Code);
        Assert.Equal("", refused.Output);
        Assert.Equal($"migration: no API token for {a.Api} in {path}: is the daemon running as this user?\n", refused.Error);
    }

    [Fact]
    public async Task Neither_secret_nor_token_appears_in_logs_job_results_or_cli_output()
    {
        var runtimeA = Runtime("a");
        var runtimeB = Runtime("b");
        var runtimeC = Runtime("c");
        using var a = await DaemonProcess.StartOnLoopbackAsync("a", _directory, WriteSecret("a", Secret), runtimeA);
        using var b = await DaemonProcess.StartOnLoopbackAsync("b", _directory, WriteSecret("b", Secret), runtimeB);
        using var c = await DaemonProcess.StartOnLoopbackAsync("c", _directory, WriteSecret("c", OtherSecret), runtimeC);
        using var clientA = a.Client();
        using var clientB = b.Client();
        var tokens = new[] { a, b, c }.Select(d => File.ReadAllText(ApiTokenFile.PathFor(ApiAddress.Parse(d.Api), Path.Combine(d.RuntimeDirectory!, "migration")))).ToArray();
        var vm = await clientA.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("idle"), 32UL << 20));

        var printed = new List<string>();
        var refused = await CliAsync(runtimeA, "migrate", "--api", a.Api, vm.Id, "--to", c.MigrationEndpoint);
        Assert.True(refused.Code == 1, refused.Output + refused.Error);
        Assert.Contains("wrong secret", refused.Error, StringComparison.Ordinal);
        printed.Add(refused.Output + refused.Error);

        var moved = await CliAsync(runtimeA, "migrate", "--api", a.Api, vm.Id, "--to", b.MigrationEndpoint, "--json");
        Assert.True(moved.Code == 0, moved.Error + a.Log + b.Log);
        printed.Add(moved.Output + moved.Error);
        var back = await CliAsync(runtimeB, "migrate", "--api", b.Api, vm.Id, "--to", a.MigrationEndpoint);
        Assert.True(back.Code == 0, back.Error + a.Log + b.Log);
        printed.Add(back.Output + back.Error);
        var shown = await CliAsync(runtimeA, "vm", "show", "--api", a.Api, vm.Id, "--json");
        printed.Add(shown.Output + shown.Error);

        var jobs = (await clientA.ListJobsAsync()).Concat(await clientB.ListJobsAsync()).ToList();
        Assert.Equal(3, jobs.Count);
        foreach (var job in jobs)
        {
            printed.Add(System.Text.Json.JsonSerializer.Serialize(job, HostJsonContext.Default.JobInfo));
        }

        printed.Add(System.Text.Json.JsonSerializer.Serialize(await clientA.GetHostAsync(), HostJsonContext.Default.HostInfo));
        await Eventually.UntilAsync(() => Task.FromResult(c.Log), log => log.Contains("secret", StringComparison.Ordinal), "host c logs the refused secret");
        await Task.WhenAll(a.StopAsync(), b.StopAsync(), c.StopAsync());
        printed.AddRange([a.Log, b.Log, c.Log]);

        foreach (var text in printed)
        {
            foreach (var hidden in tokens.Append(Secret).Append(OtherSecret))
            {
                Assert.DoesNotContain(hidden, text, StringComparison.Ordinal);
            }
        }

        // Removed at shutdown: a stopped daemon leaves no token behind.
        Assert.All([runtimeA, runtimeB, runtimeC], runtime => Assert.Empty(Directory.GetFiles(Path.Combine(runtime, "migration"))));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Task<(int Code, string Output, string Error)> CliAsync(string runtimeDirectory, params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", [RepositoryPaths.Cli, .. arguments], environment: new Dictionary<string, string?> { ["XDG_RUNTIME_DIR"] = runtimeDirectory });

    private string Runtime(string user) => Directory.CreateDirectory(Path.Combine(_directory, "run-" + user)).FullName;

    private string WriteSecret(string host, string secret)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_directory, "secret-" + host)).FullName;
        return TestDaemon.WriteSecret(directory, secret + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
