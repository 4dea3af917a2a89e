using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Migration.Host.Tests;

/// <summary>The API's bytes as any HTTP client (curl --unix-socket) sees them: JSON names and enums, problem details for every error.</summary>
public sealed class WireFormatTests
{
    [Fact]
    public async Task Vms_are_camel_case_json_with_states_by_name()
    {
        await using var host = await TestDaemon.StartAsync();
        using var http = Raw(host);
        var body = $$"""{"guest": "{{RepositoryPaths.Guest("idle")}}", "memory": 16777216, "ports": ["7000:0"]}""";
        using var created = await http.PostAsync("/vms", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(201, (int)created.StatusCode);
        using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var vm = json.RootElement;
        var id = vm.GetProperty("id").GetString();
        Assert.Equal($"/vms/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal("Running", vm.GetProperty("state").GetString());
        Assert.Equal(16777216, vm.GetProperty("memory").GetInt64());
        Assert.Equal("""[{"guestPort":7000,"requested":"127.0.0.1:0"}]""", vm.GetProperty("ports").GetRawText());
        Assert.False(vm.TryGetProperty("exit", out _), "a running VM has no exit");
    }

    [Theory]
    [InlineData("POST", "/vms", "{not json", 400, "the request body is not valid JSON for this call: ")]
    [InlineData("POST", "/vms", "", 400, """the request needs a JSON body, such as {"guest": "/path/to/guest.elf"}""")]
    [InlineData("GET", "/vms/vm-000000/console?offset=abc", null, 400, "Failed to bind parameter")]
    [InlineData("GET", "/nowhere", null, 404, "no such endpoint: GET /nowhere")]
    [InlineData("DELETE", "/jobs/job-000000", null, 404, "no job job-000000 on this host")]
    public async Task Every_error_is_a_problem_document_with_one_detail_line(string method, string path, string? body, int status, string detail)
    {
        await using var host = await TestDaemon.StartAsync();
        using var http = Raw(host);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(status, json.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("title").GetString()));
        var actual = json.RootElement.GetProperty("detail").GetString()!;
        Assert.StartsWith(detail, actual, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', actual);
    }

    /// <summary>A plain HttpClient on the daemon's socket, with nothing of the project's client in between.</summary>
    private static HttpClient Raw(TestDaemon host)
    {
        var path = host.Daemon.Api.UnixPath!;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), token);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri("http://localhost") };
    }
}
