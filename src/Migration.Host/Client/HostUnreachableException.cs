namespace Migration.Host.Client;

/// <summary>No daemon answered at the API address; the message says where and why ("connection refused", "no such file").</summary>
public sealed class HostUnreachableException : Exception
{
    public HostUnreachableException()
    {
    }

    public HostUnreachableException(string message)
        : base(message)
    {
    }

    public HostUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
