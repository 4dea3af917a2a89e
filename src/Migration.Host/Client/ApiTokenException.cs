namespace Migration.Host.Client;

/// <summary>The client has no token for a loopback API: the file is missing, unreadable or empty; the message says where it looked.</summary>
public sealed class ApiTokenException : Exception
{
    public ApiTokenException()
    {
    }

    public ApiTokenException(string message)
        : base(message)
    {
    }

    public ApiTokenException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
