using System.Text.Json;

namespace Migration.Host.Api;

/// <summary>A long operation (checkpoint, migration) as <c>GET /jobs/{id}</c> returns it.</summary>
/// <param name="Kind"><c>checkpoint</c> or <c>migration</c>.</param>
/// <param name="Phase">What the job is doing now, in a few words.</param>
/// <param name="Fraction">Done so far, 0..1, when the job can tell.</param>
/// <param name="Progress">Kind-specific live figures (a migration's round, pages left, rates); null when there are none.</param>
/// <param name="Result">Kind-specific result once Succeeded (<see cref="CheckpointJobResult"/> for a checkpoint).</param>
/// <param name="Error">One line saying why, once Failed or Cancelled.</param>
/// <param name="ErrorStatus">The HTTP status the same failure would have had as a direct call (409, 422, 507, …).</param>
public sealed record JobInfo(
    string Id,
    string Kind,
    string? VmId,
    JobState State,
    string Phase,
    double? Fraction,
    JsonElement? Progress,
    JsonElement? Result,
    string? Error,
    int? ErrorStatus,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt);
