using System.Net;
using System.Reflection;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Migration.Core.Transfer;
using Migration.Host.Api;
using Migration.Host.Jobs;
using Migration.Host.LiveMigration;
using Migration.Host.Network;
using Migration.Host.Vms;
using Migration.Networking.Repair;

namespace Migration.Host;

/// <summary>
/// A host's daemon: runs VMs and serves the control API (HTTP + JSON) on a Unix socket or a loopback port, and hands
/// the migration port and the secret to the migration endpoint. <see cref="StartAsync"/> returns once the API
/// answers; <see cref="StopAsync"/> stops the API, cancels jobs, terminates every VM and removes the socket file.
/// </summary>
public sealed class HostDaemon : IAsyncDisposable
{
    public static readonly string Version = typeof(HostDaemon).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    private readonly WebApplication _app;
    private readonly HostSecret _secret;
    private readonly MigrationTls? _tls;
    private readonly ApiToken? _token;
    private readonly string? _tokenDirectory;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggerFactory;
    private int _stopped;
    private bool _listening;

    private HostDaemon(HostDaemonOptions options, HostSecret secret, MigrationTls? tls, HostNetworks networks)
    {
        _secret = secret;
        _tls = tls;
        Networks = networks;
        Name = options.Name;
        Api = options.Api;
        MigrationPort = options.MigrationPort;
        ConsoleWait = options.ConsoleWait;
        Migration = options.Migration ?? new UnavailableMigrationEndpoint();
        // A Unix socket is guarded by its mode; loopback is open to every local user, so it takes a token.
        _token = options.Api.IsUnix ? null : ApiToken.Generate();
        _tokenDirectory = options.TokenDirectory;

        // The slim builder reads no command line; ASPNETCORE_URLS is overridden by the explicit listener below.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = typeof(HostDaemon).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.FormatterName = HostLogFormatter.FormatterName)
            .AddConsoleFormatter<HostLogFormatter, ConsoleFormatterOptions>();
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(options.LogLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);

        var unixPath = options.Api.UnixPath;
        builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = endpoint => ApiSocket.CreateBound(endpoint, unixPath));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (unixPath is not null)
            {
                kestrel.ListenUnixSocket(unixPath, listen => listen.Protocols = HttpProtocols.Http1);
            }
            else
            {
                kestrel.Listen(options.Api.Endpoint!, listen => listen.Protocols = HttpProtocols.Http1);
            }
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(o => ConfigureJson(o));
        builder.Services.AddSingleton(this);

        _app = builder.Build();
        _loggerFactory = _app.Services.GetRequiredService<ILoggerFactory>();
        _logger = _loggerFactory.CreateLogger<HostDaemon>();
        Vms = new VmRegistry(options.ConsoleBufferBytes, networks, _loggerFactory.CreateLogger<VmRegistry>());
        Jobs = new JobRegistry(_loggerFactory.CreateLogger<JobRegistry>());
        _app.Use((context, next) => ProblemResponses.HandleAsync(context, next, _logger));
        if (_token is { } token)
        {
            _app.Use((context, next) => RequireTokenAsync(context, next, token));
        }

        ApiRoutes.Map(_app);
    }

    public string Name { get; }

    /// <summary>The address the API answers at; for a loopback port 0, the port the system picked.</summary>
    public ApiAddress Api { get; private set; }

    /// <summary>The port incoming migrations arrive on, as the migration endpoint reported it.</summary>
    public int MigrationPort { get; private set; }

    /// <summary>Where the loopback API's bearer token is, once written; null for a Unix socket.</summary>
    public string? TokenFile { get; private set; }

    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>The SHA-256 fingerprint of this host's TLS certificate, for peers to pin; null without TLS.</summary>
    public string? TlsFingerprint => _tls?.Certificate is { } certificate ? MigrationTls.Fingerprint(certificate) : null;

    public VmRegistry Vms { get; }

    /// <summary>The socket backend chosen at start for every VM here.</summary>
    public HostNetworks Networks { get; }

    public JobRegistry Jobs { get; }

    internal IMigrationEndpoint Migration { get; }

    internal TimeSpan ConsoleWait { get; }

    /// <summary>Fires when the daemon begins to stop, so long polls answer at once instead of holding the shutdown.</summary>
    internal CancellationToken Stopping => _stopping.Token;

    /// <summary>
    /// Reads the secret, binds the API and starts the migration endpoint. Every refusal is a
    /// <see cref="HostConfigurationException"/> with one line for a person; nothing is left behind on failure.
    /// </summary>
    public static async Task<HostDaemon> StartAsync(HostDaemonOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            throw new HostConfigurationException("the host needs a name");
        }

        if (options.MigrationPort is < 0 or > 65535)
        {
            throw new HostConfigurationException($"migration port {options.MigrationPort} is not 0..65535");
        }

        var secret = HostSecret.Load(options.SecretFile);
        MigrationTls? tls = null;
        HostNetworks networks;
        try
        {
            tls = HostTls.Load(options.TlsCertificateFile, options.TlsTrustFile, options.TlsPins);
            networks = HostNetworks.Choose(options.Network, options.Relay, secret.Key);
        }
        catch
        {
            secret.Dispose();
            tls?.Certificate?.Dispose();
            throw;
        }

        HostDaemon daemon;
        try
        {
            daemon = new HostDaemon(options, secret, tls, networks);
        }
        catch
        {
            secret.Dispose();
            tls?.Certificate?.Dispose();
            CloseQuietly(networks);
            throw;
        }

        try
        {
            await daemon.StartCoreAsync(cancellationToken).ConfigureAwait(false);
            return daemon;
        }
        catch
        {
            await daemon.StopAsync().ConfigureAwait(false);
            throw;
        }
    }

    public HostInfo Describe() => new(Name, Version, Vms.Count, MigrationPort, Api.ToString(), StartedAt, Environment.ProcessId, Networks.Backend, Networks.FallbackReason);

    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // The server never started (a refused address): nothing to stop.
        }

        await Jobs.DisposeAsync().ConfigureAwait(false);
        await Migration.DisposeAsync().ConfigureAwait(false);
        await Vms.DisposeAsync().ConfigureAwait(false);
        try
        {
            Networks.Close();
        }
        catch (NetworkLockException e)
        {
            Log.LockTableKept(_logger, e.Message);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        // Only a socket this daemon bound: a start refused because another daemon answers must leave that one's file.
        if (_listening && Api.UnixPath is { } path)
        {
            ApiSocket.Remove(path);
        }

        if (TokenFile is { } tokenFile)
        {
            ApiTokenFile.Remove(tokenFile);
        }

        _secret.Dispose();
        _tls?.Certificate?.Dispose();
        _stopping.Dispose();
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>For a start that failed before the daemon existed: there is no logger to tell yet, and the start's own error matters more.</summary>
    private static void CloseQuietly(HostNetworks networks)
    {
        try
        {
            networks.Close();
        }
        catch (NetworkLockException)
        {
            // The table stays until the next host leaves it; its entries are empty.
        }
    }

    private static Task RequireTokenAsync(HttpContext context, RequestDelegate next, ApiToken token)
    {
        if (token.Accepts(context.Request.Headers.Authorization.ToString()))
        {
            return next(context);
        }

        context.Response.OnStarting(() =>
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Task.CompletedTask;
        });
        return ProblemResponses.WriteAsync(
            context, StatusCodes.Status401Unauthorized, "missing or wrong API token: send the daemon's token (Authorization: Bearer), which only the daemon's user can read from its token file");
    }

    internal static void ConfigureJson(JsonOptions options)
    {
        // The same wire format as HostJsonContext's own options, which the client reads with.
        options.SerializerOptions.TypeInfoResolverChain.Insert(0, HostJsonContext.Default);
        options.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
        options.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        if (Api.UnixPath is { } path)
        {
            ApiSocket.PreparePath(path, _logger);
        }

        try
        {
            await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            var reason = e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException ? "the address is in use" : e.Message;
            throw new HostConfigurationException($"cannot listen on {Api}: {reason}", e);
        }

        _listening = true;

        if (Api.Endpoint is { Port: 0 })
        {
            var bound = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            Api = Api.WithPort(new Uri(bound).Port);
        }

        if (_token is { } token)
        {
            // Written only once the port is this daemon's: a token file always names a daemon that holds the address.
            var tokenFile = ApiTokenFile.PathFor(Api, _tokenDirectory);
            ApiTokenFile.Write(tokenFile, token);
            TokenFile = tokenFile;
        }

        MigrationPort = await Migration.StartAsync(new MigrationContext(Name, MigrationPort, _secret, Vms, _loggerFactory, _tls), cancellationToken).ConfigureAwait(false);
        StartedAt = DateTimeOffset.UtcNow;
    }
}
