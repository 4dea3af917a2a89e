namespace Migration.Networking.Repair;

/// <summary>A service address could not be parsed, put on its interface or taken off; the message says which and why.</summary>
public sealed class ServiceAddressException : Exception
{
    public ServiceAddressException(string message)
        : base(message)
    {
    }

    public ServiceAddressException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public ServiceAddressException()
    {
    }
}
