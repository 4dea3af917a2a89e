namespace Migration.Networking.Relay;

/// <summary>A relay link carried something the protocol does not allow; the link is dropped.</summary>
public sealed class RelayProtocolException : Exception
{
    public RelayProtocolException()
    {
    }

    public RelayProtocolException(string message)
        : base(message)
    {
    }

    public RelayProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
