using Microsoft.Extensions.Logging;
using Migration.Core.Transfer;
using Migration.Host.Vms;

namespace Migration.Host.LiveMigration;

/// <summary>
/// What the daemon gives its migration endpoint at start, and nothing else does: the migration port, the secret
/// that authenticates the channel, its TLS settings, and the VM registry (to reserve an arriving VM's id and commit it after the
/// hand-over).
/// </summary>
/// <param name="Port">The TCP port to accept incoming migrations on (all interfaces: migration is host to host).</param>
/// <param name="Tls">TLS around the channel both ways (this host's certificate, and what it trusts in a destination); null is plain TCP.</param>
public sealed record MigrationContext(string HostName, int Port, HostSecret Secret, VmRegistry Vms, ILoggerFactory LoggerFactory, MigrationTls? Tls = null);
