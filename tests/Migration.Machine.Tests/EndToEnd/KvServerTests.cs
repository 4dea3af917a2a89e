using System.Globalization;

namespace Migration.Machine.Tests.EndToEnd;

/// <summary>The kv guest serves Debian's unmodified redis-benchmark and redis-cli over real TCP.</summary>
[Trait("Category", "EndToEnd")]
public class KvServerTests
{
    private static readonly TimeSpan BenchmarkTimeout = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    public async Task Redis_benchmark_runs_without_errors(int pipeline)
    {
        var benchmark = ExternalTool.Require("redis-benchmark", "redis-tools");
        await using var server = await GuestServer.StartAsync("kv", 6379, 256UL << 20);

        var (code, output, error) = await ExternalTool.RunAsync(benchmark,
            ["-h", "127.0.0.1", "-p", server.HostPort.ToString(CultureInfo.InvariantCulture),
             "-t", "ping,set,get,incr,mset", "-n", "100000", "-c", "50",
             "-P", pipeline.ToString(CultureInfo.InvariantCulture), "-q"],
            BenchmarkTimeout);

        Assert.True(code == 0, $"redis-benchmark exited {code}: {error}\n{output}");
        Assert.DoesNotContain("ERR", output, StringComparison.Ordinal);
        Assert.DoesNotContain("rror", output + error, StringComparison.Ordinal);
        foreach (var test in new[] { "PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET" })
        {
            Assert.Matches($@"(?m)^{test}( \(10 keys\))?: [0-9.]+ requests per second", output.Replace("\r", "\n", StringComparison.Ordinal));
        }

        Assert.False(server.Machine.Completion.IsCompleted, $"guest ended during the benchmark: {server.ConsoleText}");
    }

    [Fact]
    public async Task Redis_cli_reads_back_what_it_wrote()
    {
        var cli = ExternalTool.Require("redis-cli", "redis-tools");
        await using var server = await GuestServer.StartAsync("kv", 6379);
        var port = server.HostPort.ToString(CultureInfo.InvariantCulture);

        async Task<string> Cli(params string[] command)
        {
            var (code, output, error) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, .. command], TimeSpan.FromSeconds(30));
            Assert.True(code == 0, $"redis-cli {string.Join(' ', command)} exited {code}: {error}");
            return output.TrimEnd('\n');
        }

        Assert.Equal("PONG", await Cli("ping"));
        Assert.Equal("OK", await Cli("set", "greeting", "hello world"));
        Assert.Equal("hello world", await Cli("get", "greeting"));
        Assert.Equal("OK", await Cli("mset", "a", "1", "b", "2", "c", "3"));
        Assert.Equal("1\n2\n3\n", await Cli("mget", "a", "b", "c") + "\n");
        Assert.Equal("2", await Cli("incr", "a"));
        Assert.Equal("2", await Cli("exists", "a", "b", "nope"));
        Assert.Equal("1", await Cli("del", "b"));
        Assert.Equal("", await Cli("get", "b"));
        Assert.Equal("3", await Cli("dbsize"));
        Assert.Contains("ERR", await Cli("incr", "greeting"), StringComparison.Ordinal);
        Assert.Equal("OK", await Cli("flushall"));
        Assert.Equal("0", await Cli("dbsize"));
    }

    [Fact]
    public async Task Values_written_by_redis_benchmark_and_mass_insertion_are_readable_with_redis_cli()
    {
        var benchmark = ExternalTool.Require("redis-benchmark", "redis-tools");
        var cli = ExternalTool.Require("redis-cli", "redis-tools");
        await using var server = await GuestServer.StartAsync("kv", 6379);
        var port = server.HostPort.ToString(CultureInfo.InvariantCulture);

        var (code, _, error) = await ExternalTool.RunAsync(benchmark,
            ["-h", "127.0.0.1", "-p", port, "-t", "set", "-n", "20000", "-r", "1000", "-d", "8", "-c", "20", "-P", "8", "-q"], BenchmarkTimeout);
        Assert.True(code == 0, error);
        var (_, size, _) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, "dbsize"], TimeSpan.FromSeconds(30));
        Assert.InRange(int.Parse(size.Trim(), CultureInfo.InvariantCulture), 900, 1000);
        var (_, random, _) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, "get", "key:000000000042"], TimeSpan.FromSeconds(30));
        Assert.Equal(8, random.TrimEnd('\n').Length);

        // redis-cli --pipe is the mass-insertion path: thousands of commands on one connection, replies counted.
        var commands = new System.Text.StringBuilder();
        for (var i = 0; i < 5000; i++)
        {
            commands.Append(CultureInfo.InvariantCulture, $"SET user:{i} value-{i * 7}\r\n");
        }

        var (pipeCode, pipeOutput, pipeError) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, "--pipe"],
            TimeSpan.FromSeconds(60), System.Text.Encoding.ASCII.GetBytes(commands.ToString()));
        Assert.True(pipeCode == 0, pipeError + pipeOutput);
        Assert.Contains("errors: 0, replies: 5000", pipeOutput, StringComparison.Ordinal);
        foreach (var i in new[] { 0, 1, 2500, 4999 })
        {
            var (_, value, _) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, "get", $"user:{i}"], TimeSpan.FromSeconds(30));
            Assert.Equal($"value-{i * 7}", value.TrimEnd('\n'));
        }

        Assert.False(server.Machine.Completion.IsCompleted, $"guest ended: {server.ConsoleText}");
    }

    [Fact]
    public async Task A_one_gibibyte_guest_holds_a_million_keys()
    {
        var cli = ExternalTool.Require("redis-cli", "redis-tools");
        await using var server = await GuestServer.StartAsync("kv", 6379, 1UL << 30);
        var port = server.HostPort.ToString(CultureInfo.InvariantCulture);

        var (code, output, error) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, "--pipe"],
            TimeSpan.FromMinutes(3), MassInsert(1_000_000, i => $"key:{i:D9}", i => $"v{i}"));
        Assert.True(code == 0, error + output);
        Assert.Contains("errors: 0, replies: 1000000", output, StringComparison.Ordinal);

        var (_, size, _) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, "dbsize"], TimeSpan.FromSeconds(30));
        Assert.Equal("1000000", size.Trim());
        var (_, value, _) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, "get", "key:000765432"], TimeSpan.FromSeconds(30));
        Assert.Equal("v765432", value.Trim());
    }

    [Fact]
    public async Task Running_out_of_guest_memory_answers_an_error_and_the_server_keeps_serving()
    {
        var cli = ExternalTool.Require("redis-cli", "redis-tools");
        await using var server = await GuestServer.StartAsync("kv", 6379, 16UL << 20);
        var port = server.HostPort.ToString(CultureInfo.InvariantCulture);

        var (_, output, _) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, "--pipe"],
            TimeSpan.FromMinutes(2), MassInsert(200_000, i => $"key:{i:D9}", _ => new string('v', 32)));
        Assert.Matches("errors: [1-9][0-9]*, replies: 200000", output);

        var (_, set, _) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, "set", "one-more", "value"], TimeSpan.FromSeconds(30));
        Assert.StartsWith("OOM", set.Trim(), StringComparison.Ordinal);
        var (_, ping, _) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, "ping"], TimeSpan.FromSeconds(30));
        Assert.Equal("PONG", ping.Trim());
        var (_, first, _) = await ExternalTool.RunAsync(cli, ["-h", "127.0.0.1", "-p", port, "get", "key:000000000"], TimeSpan.FromSeconds(30));
        Assert.Equal(new string('v', 32), first.Trim());
        Assert.False(server.Machine.Completion.IsCompleted, $"guest ended: {server.ConsoleText}");
    }

    private static byte[] MassInsert(int count, Func<int, string> key, Func<int, string> value)
    {
        var commands = new System.Text.StringBuilder(count * 40);
        for (var i = 0; i < count; i++)
        {
            var k = key(i);
            var v = value(i);
            commands.Append(CultureInfo.InvariantCulture, $"*3\r\n$3\r\nSET\r\n${k.Length}\r\n{k}\r\n${v.Length}\r\n{v}\r\n");
        }

        return System.Text.Encoding.ASCII.GetBytes(commands.ToString());
    }
}
