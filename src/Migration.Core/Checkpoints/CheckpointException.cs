namespace Migration.Core.Checkpoints;

/// <summary>A checkpoint could not be written or resumed; the message names the file, the cause and, for bad input, the byte offset.</summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException()
    {
    }

    public CheckpointException(string message)
        : base(message)
    {
    }

    public CheckpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
