using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Migration.Host.Api;
using Migration.Host.Client;

namespace Migration.Cli.Demo;

/// <summary>The steps the demo and the benchmarks take on a VM through a host's API, each bounded in time.</summary>
internal static class VmOperations
{
    public static readonly TimeSpan StepLimit = TimeSpan.FromMinutes(2);

    public static async Task<JsonElement> FinishAsync(ApiClient client, JobInfo job, string what, CancellationToken cancellationToken)
    {
        var final = await client.WaitForJobAsync(job.Id, cancellationToken: cancellationToken).WaitAsync(StepLimit, cancellationToken).ConfigureAwait(false);
        if (final.State != JobState.Succeeded || final.Result is not { } result)
        {
            throw new InvalidOperationException($"{what} failed: {final.Error ?? final.State.ToString()}");
        }

        return result;
    }

    public static async Task<MigrationJobResult> MigrateAsync(ApiClient client, string vm, MigrateVmRequest request, string what, CancellationToken cancellationToken)
    {
        var job = await client.MigrateVmAsync(vm, request, cancellationToken).ConfigureAwait(false);
        var result = await FinishAsync(client, job, what, cancellationToken).ConfigureAwait(false);
        return result.Deserialize(HostJsonContext.Default.MigrationJobResult)
            ?? throw new InvalidOperationException($"{what}: the job's result is not a migration report");
    }

    /// <summary>The host endpoint of the guest's TCP port, once the guest listens on it.</summary>
    public static async Task<IPEndPoint> ListenerAsync(ApiClient client, string vm, int guestPort, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StepLimit)
        {
            var info = await client.GetVmAsync(vm, cancellationToken).ConfigureAwait(false);
            if (info.Ports.FirstOrDefault(p => p.GuestPort == guestPort && p.Protocol == "tcp")?.Host is { } host && IPEndPoint.TryParse(host, out var endpoint))
            {
                return endpoint;
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"{vm} did not start listening on port {guestPort} within {StepLimit.TotalSeconds:0} s");
    }

    /// <summary>Waits until the guest's console has shown <paramref name="text"/>; fails when the guest ends first.</summary>
    public static async Task WaitForConsoleAsync(ApiClient client, string vm, string text, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var seen = new StringBuilder();
        long offset = 0;
        while (deadline.Elapsed < StepLimit)
        {
            var chunk = await client.ReadConsoleAsync(vm, offset, wait: true, cancellationToken).ConfigureAwait(false);
            seen.Append(Encoding.UTF8.GetString(chunk.Data));
            if (seen.ToString().Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            if (chunk.Ended)
            {
                throw new InvalidOperationException($"{vm} ended before it printed \"{text}\": {seen.ToString().Trim()}");
            }

            offset = chunk.NextOffset;
        }

        throw new TimeoutException($"{vm} did not print \"{text}\" within {StepLimit.TotalSeconds:0} s");
    }
}
