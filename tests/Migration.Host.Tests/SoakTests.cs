using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Migration.Host.Tests;

/// <summary>
/// The soak's short form: <c>tools/soak.sh</c> moves kv between two daemons 30 times under redis-benchmark load and
/// checks every key (the full 200 run on demand: <c>tools/soak.sh</c>).
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed partial class SoakTests(ITestOutputHelper output)
{
    private const int Migrations = 30;

    [Fact]
    public async Task Thirty_migrations_under_redis_benchmark_lose_no_request_and_no_key()
    {
        foreach (var tool in new[] { "redis-benchmark", "redis-cli", "ss" })
        {
            Assert.True(ProcessRunner.Find(tool) is not null, $"{tool} is not installed: tools/setup.sh installs it");
        }

        var (code, stdout, stderr) = await ProcessRunner.RunAsync(
            Path.Combine(RepositoryPaths.Root, "tools", "soak.sh"),
            ["--migrations", Migrations.ToString(CultureInfo.InvariantCulture), "--keys", "2000", "--max-seconds", "420", "--cli", RepositoryPaths.Cli],
            TimeSpan.FromSeconds(480));
        output.WriteLine(stdout);
        output.WriteLine(stderr);

        Assert.True(code == 0, $"tools/soak.sh exited {code}: {stderr.Trim()}");
        var summary = Summary().Match(stdout);
        Assert.True(summary.Success, $"no summary line in: {stdout}");
        Assert.Equal(Migrations, int.Parse(summary.Groups["migrations"].Value, CultureInfo.InvariantCulture));
        Assert.True(int.Parse(summary.Groups["runs"].Value, CultureInfo.InvariantCulture) >= 1, "no load run completed");
        Assert.Equal("2000", summary.Groups["keys"].Value);
    }

    [GeneratedRegex(@"^soak: (?<migrations>\d+) migrations in \d+ s under redis-benchmark load \((?<runs>\d+) runs, \d+ requests, 20 connections\): 0 client errors, counter \d+ = INCRs sent, (?<keys>\d+) of \k<keys> keys intact", RegexOptions.Multiline)]
    private static partial Regex Summary();
}
