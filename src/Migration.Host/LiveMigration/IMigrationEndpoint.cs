using System.Text.Json;
using Migration.Host.Api;
using Migration.Host.Jobs;
using Migration.Host.Vms;

namespace Migration.Host.LiveMigration;

/// <summary>
/// The seam between the daemon and the live-migration transfer engine (Migration.Core/Transfer). The daemon calls
/// <see cref="StartAsync"/> once when it starts and disposes the endpoint when it stops; <c>POST /vms/{id}/migrate</c>
/// calls <see cref="Validate"/> and then runs <see cref="MigrateAsync"/> as a job. An implementation accepts incoming
/// migrations on its own listener: it reserves the VM's id with <see cref="VmRegistry.ReserveIncoming"/>, restores the
/// machine with the options <see cref="IncomingVm"/> makes, and commits it on "complete".
/// </summary>
public interface IMigrationEndpoint : IAsyncDisposable
{
    /// <summary>
    /// Starts listening for incoming migrations on <see cref="MigrationContext.Port"/> and returns the port it listens
    /// on (the system's pick when given 0), which <c>GET /host</c> reports. A failure stops the daemon from starting.
    /// </summary>
    Task<int> StartAsync(MigrationContext context, CancellationToken cancellationToken);

    /// <summary>Refuses a request before a job exists for it, with an <see cref="ApiException"/> (400 bad destination, 409 VM not running, …).</summary>
    void Validate(HostedVm vm, MigrateVmRequest request);

    /// <summary>
    /// Migrates <paramref name="vm"/> out: the body of a migration job. Take the VM's control lock
    /// (<see cref="HostedVm.AcquireControlAsync"/>) for the whole transfer; report rounds and rates through
    /// <see cref="HostJob.Report"/>; after the destination's "complete", delete the VM here
    /// (<see cref="VmRegistry.DeleteAsync"/>, once the lock is released). Return the report; throw
    /// <see cref="ApiException"/> for a failure with its status (the job shows both).
    /// </summary>
    Task<JsonElement> MigrateAsync(HostedVm vm, MigrateVmRequest request, HostJob job, CancellationToken cancellationToken);
}
