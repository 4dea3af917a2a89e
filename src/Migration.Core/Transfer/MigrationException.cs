namespace Migration.Core.Transfer;

/// <summary>A migration failed; the message names the cause and <see cref="Outcome"/> says where the guest is.</summary>
public class MigrationException : Exception
{
    public MigrationException()
    {
    }

    public MigrationException(string message)
        : base(message)
    {
    }

    public MigrationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MigrationException(string message, MigrationOutcome outcome, Exception? innerException = null)
        : base(message, innerException)
    {
        Outcome = outcome;
    }

    public MigrationOutcome Outcome { get; }
}
