namespace Migration.Core.Pages;

/// <summary>An encoded page batch is malformed or corrupt; nothing of it was written to guest memory.</summary>
public sealed class PageBatchException : Exception
{
    public PageBatchException(string problem, long offset)
        : base($"page batch: {problem} (at byte {offset})")
    {
        Problem = problem;
        Offset = offset;
    }

    public PageBatchException()
    {
        Problem = string.Empty;
    }

    public PageBatchException(string message) : base(message)
    {
        Problem = message;
    }

    public PageBatchException(string message, Exception innerException) : base(message, innerException)
    {
        Problem = message;
    }

    /// <summary>The problem without the offset, for callers that add their own context (frame, file offset).</summary>
    public string Problem { get; }

    /// <summary>Byte offset within the batch of the field or payload found wrong.</summary>
    public long Offset { get; }
}
