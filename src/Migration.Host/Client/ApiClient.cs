using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Migration.Host.Api;

namespace Migration.Host.Client;

/// <summary>
/// The control API from the other side: what the CLI's <c>vm</c> commands, the tests and scripts call. Speaks HTTP
/// over the daemon's Unix socket (through a connect callback) or its loopback port. A refusal arrives as
/// <see cref="ApiException"/> carrying the daemon's status and one-line detail; no daemon at all as
/// <see cref="HostUnreachableException"/>. On a loopback port every request carries the daemon's bearer token, read
/// from the token file for that address (<see cref="ApiTokenFile"/>); without one, <see cref="ApiTokenException"/>.
/// </summary>
public sealed class ApiClient : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    private readonly HttpClient _http;

    /// <param name="tokenDirectory">Where the loopback daemon's token file is; null: where daemons put it by default.</param>
    public ApiClient(ApiAddress address, TimeSpan? timeout = null, string? tokenDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        Address = address;
        TokenFile = address.IsUnix ? null : ApiTokenFile.PathFor(address, tokenDirectory);
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) };
        if (address.UnixPath is { } path)
        {
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        _http = new HttpClient(handler) { BaseAddress = address.BaseUri, Timeout = timeout ?? DefaultTimeout };
    }

    public ApiAddress Address { get; }

    /// <summary>The token file this client reads for a loopback address; null for a Unix socket.</summary>
    public string? TokenFile { get; }

    public Task<HostInfo> GetHostAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "host", null, HostJsonContext.Default.HostInfo, cancellationToken);

    public Task<VmInfo> CreateVmAsync(CreateVmRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "vms", JsonContent.Create(request, HostJsonContext.Default.CreateVmRequest), HostJsonContext.Default.VmInfo, cancellationToken);

    public Task<VmInfo> RestoreVmAsync(RestoreVmRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "vms/restore", JsonContent.Create(request, HostJsonContext.Default.RestoreVmRequest), HostJsonContext.Default.VmInfo, cancellationToken);

    public Task<List<VmInfo>> ListVmsAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "vms", null, HostJsonContext.Default.ListVmInfo, cancellationToken);

    public Task<VmInfo> GetVmAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, Vm(id), null, HostJsonContext.Default.VmInfo, cancellationToken);

    public Task<VmInfo> PauseVmAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, Vm(id) + "/pause", null, HostJsonContext.Default.VmInfo, cancellationToken);

    /// <param name="force">Also resume a VM held after a migration of unknown outcome (see <see cref="VmInfo.Unresolved"/>).</param>
    public Task<VmInfo> ResumeVmAsync(string id, bool force = false, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, Vm(id) + (force ? "/resume?force=true" : "/resume"), null, HostJsonContext.Default.VmInfo, cancellationToken);

    public Task DeleteVmAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync<JsonElement>(HttpMethod.Delete, Vm(id), null, null, cancellationToken);

    /// <summary>Console bytes from <paramref name="offset"/>; with <paramref name="wait"/> the daemon holds the call up to ~10 s for new output.</summary>
    public Task<ConsoleChunk> ReadConsoleAsync(string id, long offset, bool wait, CancellationToken cancellationToken = default) =>
        SendAsync(
            HttpMethod.Get,
            string.Create(CultureInfo.InvariantCulture, $"{Vm(id)}/console?offset={offset}&wait={(wait ? "true" : "false")}"),
            null,
            HostJsonContext.Default.ConsoleChunk,
            cancellationToken);

    /// <summary>Starts a checkpoint job; follow it with <see cref="WaitForJobAsync"/>.</summary>
    public Task<JobInfo> CheckpointVmAsync(string id, CheckpointRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, Vm(id) + "/checkpoint", JsonContent.Create(request, HostJsonContext.Default.CheckpointRequest), HostJsonContext.Default.JobInfo, cancellationToken);

    /// <summary>Starts a migration job; follow it with <see cref="WaitForJobAsync"/>.</summary>
    public Task<JobInfo> MigrateVmAsync(string id, MigrateVmRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, Vm(id) + "/migrate", JsonContent.Create(request, HostJsonContext.Default.MigrateVmRequest), HostJsonContext.Default.JobInfo, cancellationToken);

    public Task<JobInfo> GetJobAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "jobs/" + Uri.EscapeDataString(id), null, HostJsonContext.Default.JobInfo, cancellationToken);

    public Task<List<JobInfo>> ListJobsAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "jobs", null, HostJsonContext.Default.ListJobInfo, cancellationToken);

    public Task<JobInfo> CancelJobAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, "jobs/" + Uri.EscapeDataString(id), null, HostJsonContext.Default.JobInfo, cancellationToken);

    /// <summary>Polls the job until it ends, passing each state to <paramref name="onProgress"/>; returns the final state, whatever it is.</summary>
    public async Task<JobInfo> WaitForJobAsync(string id, Action<JobInfo>? onProgress = null, TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        var interval = pollInterval ?? TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var job = await GetJobAsync(id, cancellationToken).ConfigureAwait(false);
            onProgress?.Invoke(job);
            if (job.State != JobState.Running)
            {
                return job;
            }

            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _http.Dispose();

    private static string Vm(string id) => "vms/" + Uri.EscapeDataString(id);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T>? answer, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (TokenFile is { } tokenFile)
        {
            // Read for each request: a restarted daemon has a new token, and a long-lived client should follow it.
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiTokenFile.Read(Address, tokenFile).Text);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new HostUnreachableException($"no daemon answers at {Address}: {Reason(e)}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HostUnreachableException($"the daemon at {Address} did not answer {method} /{path} within {_http.Timeout.TotalSeconds:F0} s", e);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.Unauthorized && TokenFile is not null)
            {
                throw new ApiException(StatusCodes.Status401Unauthorized, $"the daemon at {Address} refused the API token in {TokenFile}: that file is not this daemon's");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
            }

            if (answer is null)
            {
                return default!;
            }

            try
            {
                return await response.Content.ReadFromJsonAsync(answer, cancellationToken).ConfigureAwait(false)
                    ?? throw new ApiException((int)response.StatusCode, $"the daemon at {Address} answered {method} /{path} with no body");
            }
            catch (JsonException e)
            {
                throw new ApiException((int)response.StatusCode, $"the daemon at {Address} answered {method} /{path} with JSON this client cannot read: {e.Message}", e);
            }
        }
    }

    private static async Task<ApiException> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (JsonSerializer.Deserialize(text, HostJsonContext.Default.ApiProblem) is { Detail: { Length: > 0 } detail })
            {
                return new ApiException(status, detail);
            }
        }
        catch (JsonException)
        {
            // Not a problem document: a proxy or a different server; report the status line.
        }

        return new ApiException(status, $"the daemon answered {status} {response.ReasonPhrase}");
    }

    /// <summary>"connection refused", "no such socket file": the socket error in words.</summary>
    private string Reason(HttpRequestException e)
    {
        // .NET reports a missing socket file (ENOENT) as "cannot assign requested address", which misleads.
        if (Address.UnixPath is { } path && !File.Exists(path))
        {
            return "no such socket file";
        }

        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : LowerFirst(socket.Message);
            }
        }

        return LowerFirst(e.Message);
    }

    private static string LowerFirst(string text) => text.Length == 0 ? text : char.ToLowerInvariant(text[0]) + text[1..];
}
