namespace Migration.Networking.Relay;

/// <summary>The relay cannot be reached or refused this host (wrong secret, unknown protocol).</summary>
public sealed class RelayException : Exception
{
    public RelayException()
    {
    }

    public RelayException(string message)
        : base(message)
    {
    }

    public RelayException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
