using Migration.Host.Api;
using Migration.Host.Client;
using Spectre.Console;

namespace Migration.Cli.Commands;

/// <summary>
/// Follows a daemon job to its end, with a live progress bar on stderr when stderr is a terminal (phase, fraction when
/// the job knows it, elapsed time). Ctrl+C cancels the job on the daemon, not just the display.
/// </summary>
internal static class JobProgressDisplay
{
    public static async Task<JobInfo> FollowAsync(ApiClient client, JobInfo job, string title, CancellationToken cancellationToken)
    {
        try
        {
            if (Console.IsErrorRedirected || job.State != JobState.Running)
            {
                return await client.WaitForJobAsync(job.Id, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            return await Terminals.Error().Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask(Markup.Escape(title), maxValue: 1);
                    task.IsIndeterminate = true;
                    var final = await client.WaitForJobAsync(
                        job.Id,
                        j =>
                        {
                            task.Description = Markup.Escape($"{title}: {j.Phase}");
                            if (j.Fraction is { } fraction)
                            {
                                task.IsIndeterminate = false;
                                task.Value = fraction;
                            }
                        },
                        cancellationToken: cancellationToken).ConfigureAwait(false);
                    task.StopTask();
                    return final;
                }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await CancelQuietlyAsync(client, job.Id).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task CancelQuietlyAsync(ApiClient client, string jobId)
    {
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await client.CancelJobAsync(jobId, bounded.Token).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"migration: cancelled job {jobId}").ConfigureAwait(false);
        }
        catch (Exception e) when (e is ApiException or HostUnreachableException or ApiTokenException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"migration: could not cancel job {jobId}: {e.Message}").ConfigureAwait(false);
        }
    }
}
