using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Migration.Host.Api;

namespace Migration.Host.Jobs;

/// <summary>
/// A long operation the API started and answers about while it runs: a checkpoint now, a migration later. The work
/// reports its phase and figures through <see cref="Report"/>; its result, or the one-line reason it failed, is kept
/// for <c>GET /jobs/{id}</c> after it ends.
/// </summary>
public sealed class HostJob
{
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _cancel;
    private JobState _state = JobState.Running;
    private string _phase = "starting";
    private double? _fraction;
    private JsonElement? _progress;
    private JsonElement? _result;
    private string? _error;
    private int? _errorStatus;
    private DateTimeOffset? _finishedAt;

    internal HostJob(string id, string kind, string? vmId, CancellationToken stopping)
    {
        Id = id;
        Kind = kind;
        VmId = vmId;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
    }

    public string Id { get; }

    public string Kind { get; }

    public string? VmId { get; }

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Completes when the job has ended, however it ended; never faults.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public bool IsFinished
    {
        get
        {
            lock (_lock)
            {
                return _state != JobState.Running;
            }
        }
    }

    /// <summary>Publishes what the job is doing; <paramref name="progress"/> is kind-specific (a migration's round, rates, pages left).</summary>
    public void Report(string phase, double? fraction = null, JsonElement? progress = null)
    {
        lock (_lock)
        {
            if (_state != JobState.Running)
            {
                return;
            }

            _phase = phase;
            _fraction = fraction;
            _progress = progress ?? _progress;
        }
    }

    /// <summary>Asks the work to stop; it ends as Cancelled when it honours the token, or with its own outcome if it was past the point of no return.</summary>
    public void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished: nothing to cancel.
        }
    }

    public JobInfo ToInfo()
    {
        lock (_lock)
        {
            return new JobInfo(Id, Kind, VmId, _state, _phase, _fraction, _progress, _result, _error, _errorStatus, StartedAt, _finishedAt);
        }
    }

    internal void Run(Func<HostJob, CancellationToken, Task<JsonElement>> work, Action<HostJob, Exception> onCrash) =>
        Completion = Task.Run(() => RunAsync(work, onCrash));

    private async Task RunAsync(Func<HostJob, CancellationToken, Task<JsonElement>> work, Action<HostJob, Exception> onCrash)
    {
        try
        {
            var result = await work(this, _cancel.Token).ConfigureAwait(false);
            Finish(JobState.Succeeded, "done", result, null, null);
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            Finish(JobState.Cancelled, "cancelled", null, $"job {Id} was cancelled", null);
        }
        catch (ApiException e)
        {
            Finish(JobState.Failed, "failed", null, e.Message, e.Status);
        }
#pragma warning disable CA1031 // A job's failure is its result: it is reported through GET /jobs, never thrown into the thread pool.
        catch (Exception e)
#pragma warning restore CA1031
        {
            onCrash(this, e);
            Finish(JobState.Failed, "failed", null, $"internal error: {e.GetType().Name}: {e.Message}", StatusCodes.Status500InternalServerError);
        }
        finally
        {
            _cancel.Dispose();
        }
    }

    private void Finish(JobState state, string phase, JsonElement? result, string? error, int? errorStatus)
    {
        lock (_lock)
        {
            _state = state;
            _phase = phase;
            _fraction = state == JobState.Succeeded ? 1 : _fraction;
            _result = result;
            _error = error;
            _errorStatus = errorStatus;
            _finishedAt = DateTimeOffset.UtcNow;
        }
    }
}
