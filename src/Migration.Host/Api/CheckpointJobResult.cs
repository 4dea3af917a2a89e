namespace Migration.Host.Api;

/// <summary>The result of a checkpoint job.</summary>
/// <param name="Parent">Digest of the parent checkpoint for an incremental one.</param>
/// <param name="Note">Why an incremental checkpoint was asked for but a full one written.</param>
public sealed record CheckpointJobResult(
    string File,
    int Sequence,
    bool Incremental,
    string? Parent,
    string Digest,
    long Bytes,
    long Pages,
    int Sockets,
    double PausedMilliseconds,
    double ElapsedMilliseconds,
    string? Note);
