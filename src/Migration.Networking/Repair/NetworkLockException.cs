namespace Migration.Networking.Repair;

/// <summary>The network lock could not be set up, set or lifted; the message says which and why.</summary>
public sealed class NetworkLockException : Exception
{
    public NetworkLockException(string message)
        : base(message)
    {
    }

    public NetworkLockException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public NetworkLockException()
    {
    }
}
