namespace Migration.Core.Streams;

/// <summary>A stream (or checkpoint file) is truncated, corrupt, foreign or from a newer format; names the cause and the byte offset.</summary>
public sealed class MigrationStreamException : Exception
{
    public MigrationStreamException(string problem, long offset)
        : base($"{problem} (at byte {offset})")
    {
        Problem = problem;
        Offset = offset;
    }

    public MigrationStreamException()
    {
        Problem = string.Empty;
    }

    public MigrationStreamException(string message)
        : base(message)
    {
        Problem = message;
    }

    public MigrationStreamException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problem = message;
    }

    public MigrationStreamException(string problem, long offset, Exception innerException)
        : base($"{problem} (at byte {offset})", innerException)
    {
        Problem = problem;
        Offset = offset;
    }

    public string Problem { get; }

    /// <summary>Offset from the start of the stream of the field, frame or payload found wrong.</summary>
    public long Offset { get; }
}
