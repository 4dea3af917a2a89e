using System.Net;
using Microsoft.Extensions.Logging;
using Migration.Host.Api;
using Migration.Host.LiveMigration;
using Migration.Host.Vms;

namespace Migration.Host;

public sealed record HostDaemonOptions
{
    /// <summary>The host's name, as <c>GET /host</c> and migration peers see it.</summary>
    public required string Name { get; init; }

    public required ApiAddress Api { get; init; }

    /// <summary>Where incoming migrations arrive; 0 lets the system pick (then <c>GET /host</c> tells).</summary>
    public int MigrationPort { get; init; }

    /// <summary>Where a loopback API's token file goes; null is <see cref="ApiTokenFile.DefaultDirectory"/>, where clients look by default.</summary>
    public string? TokenDirectory { get; init; }

    /// <summary>The shared secret for migration channels (see <see cref="HostSecret.Load"/> for what is refused).</summary>
    public required string SecretFile { get; init; }

    /// <summary>TLS for the migration channel: this host's certificate and key (PEM, or PFX); null is plain TCP. See <see cref="HostTls.Load"/>.</summary>
    public string? TlsCertificateFile { get; init; }

    /// <summary>PEM certificates this host trusts in a destination: a CA, or the hosts' own certificates.</summary>
    public string? TlsTrustFile { get; init; }

    /// <summary>SHA-256 fingerprints of destination certificates this host accepts as they are.</summary>
    public IReadOnlyList<string> TlsPins { get; init; } = [];

    /// <summary>Console output kept per VM.</summary>
    public int ConsoleBufferBytes { get; init; } = ConsoleBuffer.DefaultCapacity;

    /// <summary>How long <c>console?wait=true</c> holds a request open for new output.</summary>
    public TimeSpan ConsoleWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Daemon events (VM created, exited, …) at Information; framework chatter stays at Warning and above regardless.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Warning;

    /// <summary>The socket backend for this host's VMs; null chooses TCP repair when this process may use it, else the relay when one is given, else plain.</summary>
    public NetworkBackend? Network { get; init; }

    /// <summary>The relay (<c>migration relay</c>) for the relay backend; it shares the host's secret.</summary>
    public IPEndPoint? Relay { get; init; }

    /// <summary>The live-migration engine; null until one exists, which answers migrate requests with 501.</summary>
    public IMigrationEndpoint? Migration { get; init; }
}
