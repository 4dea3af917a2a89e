using System.Net;
using System.Net.Sockets;
using Migration.Host.Api;
using Migration.Host.Client;

namespace Migration.Host.Tests;

/// <summary>Who can reach the daemon and what it refuses to start with: socket mode, secret file, addresses, a socket in use.</summary>
public sealed class DaemonSecurityTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _directory = Directory.CreateTempSubdirectory("migration-host-").FullName;

    [Fact]
    public async Task The_api_socket_has_mode_0600_and_is_removed_at_shutdown()
    {
        var host = await TestDaemon.StartAsync();
        var socket = host.Daemon.Api.UnixPath!;
        try
        {
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(socket));
            Assert.Equal("test-host", (await host.Client.GetHostAsync()).Name);
        }
        finally
        {
            await host.DisposeAsync();
        }

        Assert.False(File.Exists(socket));
        using var client = new ApiClient(ApiAddress.Unix(socket));
        var e = await Assert.ThrowsAsync<HostUnreachableException>(() => client.ListVmsAsync());
        Assert.Equal($"no daemon answers at unix:{socket}: no such socket file", e.Message);
    }

    [Theory]
    [InlineData(0b110_100_100, "0644")]
    [InlineData(0b110_100_000, "0640")]
    [InlineData(0b110_000_010, "0602")]
    public async Task A_secret_file_others_or_the_group_can_access_is_refused(int mode, string octal)
    {
        var secret = TestDaemon.WriteSecret(_directory, "correct horse battery staple", (UnixFileMode)mode);
        var e = await Assert.ThrowsAsync<HostConfigurationException>(() => StartAsync(secret));
        Assert.Equal($"secret file {secret} has mode {octal}: group and others must have no access (chmod 600 {secret})", e.Message);
        Assert.False(File.Exists(SocketPath), "a refused start leaves no socket behind");
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("\n", "is empty")]
    [InlineData(null, "does not exist")]
    [InlineData("short\n", "holds 5 bytes; a secret needs at least 16")]
    public async Task A_missing_or_empty_secret_is_refused(string? content, string problem)
    {
        var secret = content is null ? Path.Combine(_directory, "missing") : TestDaemon.WriteSecret(_directory, content, OwnerOnly);
        var e = await Assert.ThrowsAsync<HostConfigurationException>(() => StartAsync(secret));
        Assert.StartsWith($"secret file {secret} {problem}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_secret_is_read_without_its_trailing_newline_and_never_shows_in_text()
    {
        using var secret = HostSecret.Load(TestDaemon.WriteSecret(_directory, "correct horse battery staple\r\n", UnixFileMode.UserRead));
        Assert.Equal("correct horse battery staple"u8.ToArray(), secret.Key.ToArray());
        Assert.Equal("(secret)", secret.ToString());
    }

    [Fact]
    public async Task A_socket_another_daemon_answers_on_is_refused_and_a_stale_one_is_replaced()
    {
        var secret = TestDaemon.WriteSecret(_directory, "correct horse battery staple", OwnerOnly);
        await using (var first = await StartAsync(secret))
        {
            var e = await Assert.ThrowsAsync<HostConfigurationException>(() => StartAsync(secret));
            Assert.Equal($"cannot listen on unix:{SocketPath}: another daemon answers there", e.Message);
            using var client = new ApiClient(first.Api);
            Assert.Equal(0, (await client.GetHostAsync()).Vms);
        }

        // A daemon killed with SIGKILL leaves its socket file. .NET unlinks a socket's file when it closes the socket,
        // so bind elsewhere and move the file into place: the close then misses it, as a killed process would.
        var elsewhere = Path.Combine(_directory, "elsewhere.sock");
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(elsewhere));
            File.Move(elsewhere, SocketPath);
        }

        Assert.True(File.Exists(SocketPath));
        await using var second = await StartAsync(secret);
        using var secondClient = new ApiClient(second.Api);
        Assert.Empty(await secondClient.ListVmsAsync());
    }

    [Fact]
    public async Task A_regular_file_in_the_sockets_place_is_left_alone()
    {
        var secret = TestDaemon.WriteSecret(_directory, "correct horse battery staple", OwnerOnly);
        await File.WriteAllTextAsync(SocketPath, "precious");
        var e = await Assert.ThrowsAsync<HostConfigurationException>(() => StartAsync(secret));
        Assert.Equal($"cannot listen on unix:{SocketPath}: a file that is not a socket is in the way", e.Message);
        Assert.Equal("precious", await File.ReadAllTextAsync(SocketPath));
    }

    [Fact]
    public async Task A_loopback_api_on_port_0_reports_the_port_it_got()
    {
        var secret = TestDaemon.WriteSecret(_directory, "correct horse battery staple", OwnerOnly);
        await using var daemon = await HostDaemon.StartAsync(new HostDaemonOptions
        {
            Name = "tcp-host",
            Api = ApiAddress.Parse("127.0.0.1:0", allowAnyPort: true),
            SecretFile = secret,
            TokenDirectory = Path.Combine(_directory, "tokens"),
        });
        Assert.NotEqual(0, daemon.Api.Endpoint!.Port);
        using var client = new ApiClient(daemon.Api, tokenDirectory: Path.Combine(_directory, "tokens"));
        var info = await client.GetHostAsync();
        Assert.Equal(daemon.Api.ToString(), info.Api);
        Assert.Equal("tcp-host", info.Name);
    }

    [Theory]
    [InlineData("0.0.0.0:7000", "'0.0.0.0:7000': the API listens on loopback only (127.0.0.1 or [::1]), or on a unix: socket")]
    [InlineData("10.1.2.3:7000", "'10.1.2.3:7000': the API listens on loopback only (127.0.0.1 or [::1]), or on a unix: socket")]
    [InlineData("localhost", "'localhost' is not an API address: use unix:/path/to.sock or 127.0.0.1:PORT")]
    [InlineData("127.0.0.1:0", "'127.0.0.1:0': give the port the daemon listens on")]
    [InlineData("unix:", "unix: needs a path, as in unix:/run/migration.sock")]
    public void Api_addresses_beyond_loopback_or_malformed_are_refused(string text, string error)
    {
        Assert.False(ApiAddress.TryParse(text, allowAnyPort: false, out _, out var actual));
        Assert.Equal(error, actual);
    }

    [Fact]
    public void Api_addresses_parse_and_print_back()
    {
        Assert.Equal("unix:/run/m.sock", ApiAddress.Parse("unix:/run/m.sock").ToString());
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 7000), ApiAddress.Parse("127.0.0.1:7000").Endpoint);
        Assert.Equal("[::1]:7000", ApiAddress.Parse("[::1]:7000").ToString());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string SocketPath => Path.Combine(_directory, "api.sock");

    private Task<HostDaemon> StartAsync(string secret) => HostDaemon.StartAsync(new HostDaemonOptions
    {
        Name = "test-host",
        Api = ApiAddress.Unix(SocketPath),
        SecretFile = secret,
    });
}
