using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Migration.Host.Api;

namespace Migration.Host.Jobs;

/// <summary>The daemon's jobs: running ones, and the most recent finished ones so their results can still be read.</summary>
public sealed class JobRegistry : IAsyncDisposable
{
    /// <summary>Finished jobs kept for reading back; older ones are forgotten as new ones start.</summary>
    public const int KeptFinishedJobs = 256;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, HostJob> _jobs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private bool _closed;

    public JobRegistry(ILogger<JobRegistry> logger) => _logger = logger;

    /// <summary>Starts <paramref name="work"/> in the background; it gets a token that fires on cancel and on daemon shutdown.</summary>
    public HostJob Start(string kind, string? vmId, Func<HostJob, CancellationToken, Task<JsonElement>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        HostJob job;
        lock (_lock)
        {
            if (_closed)
            {
                throw new ApiException(Microsoft.AspNetCore.Http.StatusCodes.Status503ServiceUnavailable, "the host is shutting down");
            }

            string id;
            do
            {
                id = "job-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
            }
            while (_jobs.ContainsKey(id));

            job = new HostJob(id, kind, vmId, _stopping.Token);
            _jobs.Add(id, job);
            Prune();
        }

        job.Run(work, (j, e) => Log.JobCrashed(_logger, e, j.Id, j.Kind));
        return job;
    }

    public HostJob Get(string id)
    {
        lock (_lock)
        {
            return _jobs.GetValueOrDefault(id) ?? throw ApiException.NotFound($"no job {id} on this host");
        }
    }

    public IReadOnlyList<HostJob> List()
    {
        lock (_lock)
        {
            return [.. _jobs.Values.OrderBy(j => j.StartedAt)];
        }
    }

    /// <summary>Cancels every running job and waits for them to end.</summary>
    public async ValueTask DisposeAsync()
    {
        HostJob[] jobs;
        lock (_lock)
        {
            _closed = true;
            jobs = [.. _jobs.Values];
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(jobs.Select(j => j.Completion)).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private void Prune()
    {
        var finished = _jobs.Values.Where(j => j.IsFinished).OrderBy(j => j.StartedAt).ToList();
        foreach (var old in finished.Take(finished.Count - KeptFinishedJobs))
        {
            _jobs.Remove(old.Id);
        }
    }
}
