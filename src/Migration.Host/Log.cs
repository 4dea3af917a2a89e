using Microsoft.Extensions.Logging;
using Migration.Machine.RiscV;

namespace Migration.Host;

/// <summary>The daemon's log lines, one place, compiled templates. Nothing here takes the secret.</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "{Id} created from {Guest} ({Memory} bytes of RAM)")]
    public static partial void Created(ILogger logger, string id, string guest, ulong memory);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Id} restored from {File}")]
    public static partial void Restored(ILogger logger, string id, string file);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Id} arrived by migration")]
    public static partial void Arrived(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Id}: {Exit}")]
    public static partial void Finished(ILogger logger, string id, MachineExit exit);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Id} deleted")]
    public static partial void Deleted(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Id} checkpointed to {File}: {Bytes} bytes, guest paused {PausedMilliseconds:F1} ms")]
    public static partial void Checkpointed(ILogger logger, string id, string file, long bytes, double pausedMilliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Id} did not stop within {Seconds} s of being terminated; freeing it anyway")]
    public static partial void StopTimedOut(ILogger logger, string id, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Id} resumed by force after a migration of unknown outcome")]
    public static partial void ResumedUnresolved(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Id}: a connection could not be put back: {Problem}")]
    public static partial void ThawProblem(ILogger logger, string id, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "removed a stale API socket at {Path} (no daemon answered on it)")]
    public static partial void RemovedStaleSocket(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "job {Id} ({Kind}) failed with an internal error")]
    public static partial void JobCrashed(ILogger logger, Exception exception, string id, string kind);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed with an internal error")]
    public static partial void RequestCrashed(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the network lock table stays in place: {Reason}")]
    public static partial void LockTableKept(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Id} migrated to {To}: {Report}")]
    public static partial void MigratedOut(ILogger logger, string id, string to, string report);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Id}: migration to {To} failed: {Reason}")]
    public static partial void MigrationFailed(ILogger logger, string id, string to, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "incoming migration from {Peer} failed: {Reason}")]
    public static partial void IncomingFailed(ILogger logger, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "accepting migrations on {Endpoint}")]
    public static partial void MigrationListening(ILogger logger, string endpoint);
}
