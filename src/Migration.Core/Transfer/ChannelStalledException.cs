namespace Migration.Core.Transfer;

/// <summary>The peer kept the connection open but moved no bytes for longer than the stall timeout.</summary>
public sealed class ChannelStalledException : TimeoutException
{
    public ChannelStalledException()
    {
    }

    public ChannelStalledException(string message)
        : base(message)
    {
    }

    public ChannelStalledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
