using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Migration.Host.Vms;

namespace Migration.Host.Api;

/// <summary>
/// The control API's routes. Handlers stay thin: the registries do the work and refuse with <see cref="ApiException"/>,
/// which <see cref="ProblemResponses"/> turns into problem details.
/// </summary>
internal static class ApiRoutes
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/host", (HostDaemon daemon) => daemon.Describe());

        var vms = app.MapGroup("/vms");
        vms.MapPost("", CreateVm);
        vms.MapGet("", (HostDaemon daemon) => daemon.Vms.List().Select(vm => vm.ToInfo()).ToList());
        vms.MapPost("/restore", RestoreVmAsync);
        vms.MapGet("/{id}", (string id, HostDaemon daemon) => daemon.Vms.Get(id).ToInfo());
        vms.MapDelete("/{id}", DeleteVmAsync);
        vms.MapPost("/{id}/pause", PauseVmAsync);
        vms.MapPost("/{id}/resume", ResumeVmAsync);
        vms.MapGet("/{id}/console", ReadConsoleAsync);
        vms.MapPost("/{id}/checkpoint", Checkpoint);
        vms.MapPost("/{id}/migrate", Migrate);

        var jobs = app.MapGroup("/jobs");
        jobs.MapGet("", (HostDaemon daemon) => daemon.Jobs.List().Select(job => job.ToInfo()).ToList());
        jobs.MapGet("/{id}", (string id, HostDaemon daemon) => daemon.Jobs.Get(id).ToInfo());
        jobs.MapDelete("/{id}", CancelJob);

        app.MapFallback((HttpContext context) =>
            throw ApiException.NotFound($"no such endpoint: {context.Request.Method} {context.Request.Path}"));
    }

    private static Created<VmInfo> CreateVm(CreateVmRequest? request, HostDaemon daemon)
    {
        var vm = daemon.Vms.Create(request ?? throw MissingBody("""{"guest": "/path/to/guest.elf"}"""));
        return TypedResults.Created($"/vms/{vm.Id}", vm.ToInfo());
    }

    private static async Task<Created<VmInfo>> RestoreVmAsync(RestoreVmRequest? request, HostDaemon daemon, CancellationToken cancellationToken)
    {
        var vm = await daemon.Vms.RestoreAsync(request ?? throw MissingBody("""{"file": "/path/to/checkpoint.mck"}"""), cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/vms/{vm.Id}", vm.ToInfo());
    }

    private static async Task<NoContent> DeleteVmAsync(string id, HostDaemon daemon)
    {
        await daemon.Vms.DeleteAsync(id).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static async Task<VmInfo> PauseVmAsync(string id, HostDaemon daemon, CancellationToken cancellationToken)
    {
        var vm = daemon.Vms.Get(id);
        await vm.PauseAsync(cancellationToken).ConfigureAwait(false);
        return vm.ToInfo();
    }

    private static async Task<VmInfo> ResumeVmAsync(string id, bool? force, HostDaemon daemon, CancellationToken cancellationToken)
    {
        var vm = daemon.Vms.Get(id);
        await vm.ResumeAsync(force == true, cancellationToken).ConfigureAwait(false);
        return vm.ToInfo();
    }

    /// <summary>
    /// Console bytes from <paramref name="offset"/>; with <paramref name="wait"/>, holds the request (a long poll) until
    /// there is output after the offset, the VM ends, or the wait runs out — then answers with whatever there is.
    /// </summary>
    private static async Task<ConsoleChunk> ReadConsoleAsync(string id, long? offset, bool? wait, HostDaemon daemon, CancellationToken cancellationToken)
    {
        var vm = daemon.Vms.Get(id);
        var from = offset ?? 0;
        var end = vm.Console.End;
        if (from < 0 || from > end)
        {
            throw ApiException.BadRequest($"offset {from} is outside {id}'s console output (0..{end})");
        }

        if (wait == true)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, daemon.Stopping);
            try
            {
                await vm.Console.WaitAsync(from, daemon.ConsoleWait, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (daemon.Stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The daemon is stopping: answer now with what there is rather than hold up the shutdown.
            }
        }

        var read = vm.Console.Read(from, vm.Console.Capacity);
        var state = vm.State;

        // Output is written before the machine completes, so once it has, the end read after it is final.
        var ended = state is VmState.Exited or VmState.Faulted && read.NextOffset == vm.Console.End;
        return new ConsoleChunk(read.Offset, read.NextOffset, read.Missed, read.Data, state, ended);
    }

    private static Accepted<JobInfo> Checkpoint(string id, CheckpointRequest? request, HostDaemon daemon)
    {
        var vm = daemon.Vms.Get(id);
        if (request is null || string.IsNullOrWhiteSpace(request.Directory))
        {
            throw request is null ? MissingBody("""{"directory": "/path/to/dir", "incremental": false}""") : ApiException.BadRequest("directory: give the directory to write the checkpoint to");
        }

        string directory;
        try
        {
            directory = Path.GetFullPath(request.Directory);
        }
        catch (ArgumentException e)
        {
            throw ApiException.BadRequest($"directory: '{request.Directory}' is not a path: {e.Message}");
        }

        vm.EnsureCanCheckpoint();
        var incremental = request.Incremental;
        var stop = request.Stop;
        var job = daemon.Jobs.Start("checkpoint", vm.Id, async (job, token) =>
        {
            var result = await vm.CheckpointAsync(directory, incremental, stop, job, token).ConfigureAwait(false);
            if (stop)
            {
                // The file is on disk and synced: the VM lives on in it alone.
                await daemon.Vms.DeleteAsync(vm.Id).ConfigureAwait(false);
            }

            return JsonSerializer.SerializeToElement(result, HostJsonContext.Default.CheckpointJobResult);
        });
        return TypedResults.Accepted($"/jobs/{job.Id}", job.ToInfo());
    }

    private static Accepted<JobInfo> Migrate(string id, MigrateVmRequest? request, HostDaemon daemon)
    {
        var vm = daemon.Vms.Get(id);
        if (request is null)
        {
            throw MissingBody("""{"to": "HOST:PORT"}""");
        }

        daemon.Migration.Validate(vm, request);
        var job = daemon.Jobs.Start("migration", vm.Id, (job, token) => daemon.Migration.MigrateAsync(vm, request, job, token));
        return TypedResults.Accepted($"/jobs/{job.Id}", job.ToInfo());
    }

    private static JobInfo CancelJob(string id, HostDaemon daemon)
    {
        var job = daemon.Jobs.Get(id);
        job.Cancel();
        return job.ToInfo();
    }

    private static ApiException MissingBody(string example) => ApiException.BadRequest($"the request needs a JSON body, such as {example}");
}
