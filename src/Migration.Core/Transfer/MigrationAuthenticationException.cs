namespace Migration.Core.Transfer;

/// <summary>The channel could not be authenticated; nothing of the guest has moved.</summary>
public sealed class MigrationAuthenticationException : MigrationException
{
    public MigrationAuthenticationException()
    {
    }

    public MigrationAuthenticationException(string message)
        : base(message, MigrationOutcome.RolledBack)
    {
    }

    public MigrationAuthenticationException(string message, Exception innerException)
        : base(message, MigrationOutcome.RolledBack, innerException)
    {
    }
}
