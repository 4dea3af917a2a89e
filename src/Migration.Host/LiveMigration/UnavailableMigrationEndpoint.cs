using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Migration.Host.Api;
using Migration.Host.Jobs;
using Migration.Host.Vms;

namespace Migration.Host.LiveMigration;

/// <summary>
/// The endpoint until the transfer engine is plugged in: it listens for nothing and answers every migrate request with
/// 501, so the route, the job plumbing and the CLI can exist before the engine does.
/// </summary>
public sealed class UnavailableMigrationEndpoint : IMigrationEndpoint
{
    public Task<int> StartAsync(MigrationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(context.Port);
    }

    public void Validate(HostedVm vm, MigrateVmRequest request) =>
        throw new ApiException(StatusCodes.Status501NotImplemented, "live migration is not available in this build: the daemon has no transfer engine");

    public Task<JsonElement> MigrateAsync(HostedVm vm, MigrateVmRequest request, HostJob job, CancellationToken cancellationToken) =>
        throw new ApiException(StatusCodes.Status501NotImplemented, "live migration is not available in this build: the daemon has no transfer engine");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
