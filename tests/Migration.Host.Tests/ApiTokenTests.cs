using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Migration.Host.Api;
using Migration.Host.Client;

namespace Migration.Host.Tests;

/// <summary>The loopback API's bearer token: nothing is served without it, its file is the daemon user's alone, and the client finds it by itself.</summary>
public sealed class ApiTokenTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _directory = Directory.CreateTempSubdirectory("migration-token-").FullName;

    private string TokenDirectory => Path.Combine(_directory, "tokens");

    [Fact]
    public async Task A_request_without_the_token_or_with_a_wrong_one_gets_401_and_nothing_else()
    {
        await using var daemon = await StartAsync();
        using var raw = new HttpClient { BaseAddress = new Uri($"http://{daemon.Api}/") };
        var token = await File.ReadAllTextAsync(daemon.TokenFile!);
        var wrong = token[..^1] + (token[^1] == 'A' ? 'B' : 'A');

        foreach (var authorization in new AuthenticationHeaderValue?[] { null, new("Bearer", wrong), new("Bearer", ""), new("Basic", token), new("Bearer", token + token) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "vms") { Content = JsonContent.Create(new { guest = "/nonexistent.elf" }) };
            request.Headers.Authorization = authorization;
            using var response = await raw.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            var problem = await response.Content.ReadFromJsonAsync(HostJsonContext.Default.ApiProblem);
            Assert.Equal(
                "missing or wrong API token: send the daemon's token (Authorization: Bearer), which only the daemon's user can read from its token file",
                problem!.Detail);
            Assert.DoesNotContain(token, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(0, daemon.Vms.Count);
        using var authorized = new HttpRequestMessage(HttpMethod.Get, "host");
        authorized.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var ok = await raw.SendAsync(authorized);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task The_token_file_is_created_0600_in_a_0700_directory_and_removed_at_shutdown()
    {
        var daemon = await StartAsync();
        var file = daemon.TokenFile!;
        try
        {
            Assert.Equal(Path.Combine(TokenDirectory, $"api-127.0.0.1-{daemon.Api.Endpoint!.Port}.token"), file);
            Assert.Equal(ApiTokenFile.PathFor(daemon.Api, TokenDirectory), file);
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(file));
            Assert.Equal(OwnerOnly | UnixFileMode.UserExecute, File.GetUnixFileMode(TokenDirectory));
            Assert.Matches("^[A-Za-z0-9_-]{43}$", await File.ReadAllTextAsync(file));
            Assert.Single(Directory.GetFiles(TokenDirectory));

            using var client = new ApiClient(daemon.Api, tokenDirectory: TokenDirectory);
            Assert.Equal(file, client.TokenFile);
            Assert.Equal("token-host", (await client.GetHostAsync()).Name);
        }
        finally
        {
            await daemon.DisposeAsync();
        }

        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task Each_daemon_start_has_a_fresh_token()
    {
        string first;
        await using (var daemon = await StartAsync())
        {
            first = await File.ReadAllTextAsync(daemon.TokenFile!);
        }

        await using var again = await StartAsync();
        Assert.NotEqual(first, await File.ReadAllTextAsync(again.TokenFile!));
    }

    [Fact]
    public async Task A_client_without_the_token_file_or_with_another_daemons_token_says_so_in_one_line()
    {
        await using var daemon = await StartAsync();
        var elsewhere = Path.Combine(_directory, "elsewhere");
        var missing = ApiTokenFile.PathFor(daemon.Api, elsewhere);
        using (var client = new ApiClient(daemon.Api, tokenDirectory: elsewhere))
        {
            var e = await Assert.ThrowsAsync<ApiTokenException>(() => client.ListVmsAsync());
            Assert.Equal($"no API token for {daemon.Api} in {missing}: is the daemon running as this user?", e.Message);
        }

        ApiTokenFile.Write(missing, ApiToken.Generate());
        using (var client = new ApiClient(daemon.Api, tokenDirectory: elsewhere))
        {
            var e = await Assert.ThrowsAsync<ApiException>(() => client.ListVmsAsync());
            Assert.Equal(401, e.Status);
            Assert.Equal($"the daemon at {daemon.Api} refused the API token in {missing}: that file is not this daemon's", e.Message);
        }
    }

    [Fact]
    public async Task A_token_directory_others_may_enter_is_refused_at_start()
    {
        Directory.CreateDirectory(TokenDirectory);
        File.SetUnixFileMode(TokenDirectory, (UnixFileMode)0b111_101_101);
        var e = await Assert.ThrowsAsync<HostConfigurationException>(() => StartAsync());
        Assert.Equal($"cannot write the API token to {TokenDirectory}: it has mode 0755; it must be the user's alone (chmod 700 {TokenDirectory})", e.Message);
        Assert.Empty(Directory.GetFiles(TokenDirectory));
    }

    [Fact]
    public void The_token_compares_whole_and_never_shows_in_text()
    {
        var token = ApiToken.Generate();
        Assert.True(token.Accepts("Bearer " + token.Text));
        Assert.True(token.Accepts("bearer " + token.Text));
        Assert.False(token.Accepts(token.Text));
        Assert.False(token.Accepts("Bearer " + token.Text[..^1]));
        Assert.False(token.Accepts(null));
        Assert.Equal("(token)", token.ToString());
    }

    [Fact]
    public async Task A_unix_socket_api_has_no_token()
    {
        await using var host = await TestDaemon.StartAsync();
        Assert.Null(host.Daemon.TokenFile);
        Assert.Null(host.Client.TokenFile);
        Assert.Empty(await host.Client.ListVmsAsync());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Task<HostDaemon> StartAsync() => HostDaemon.StartAsync(new HostDaemonOptions
    {
        Name = "token-host",
        Api = ApiAddress.Parse("127.0.0.1:0", allowAnyPort: true),
        SecretFile = TestDaemon.WriteSecret(_directory, "correct horse battery staple", OwnerOnly),
        TokenDirectory = TokenDirectory,
    });
}
