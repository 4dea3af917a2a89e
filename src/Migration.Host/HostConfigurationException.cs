namespace Migration.Host;

/// <summary>The daemon cannot start as configured (address, secret file, socket in use); the message is one line for a person.</summary>
public sealed class HostConfigurationException : Exception
{
    public HostConfigurationException()
    {
    }

    public HostConfigurationException(string message)
        : base(message)
    {
    }

    public HostConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
