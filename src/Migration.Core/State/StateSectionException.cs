namespace Migration.Core.State;

/// <summary>A state section that cannot be applied: unknown version, missing, undecodable or semantically invalid.</summary>
public sealed class StateSectionException : Exception
{
    public StateSectionException()
    {
    }

    public StateSectionException(string message)
        : base(message)
    {
    }

    public StateSectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StateSectionException(string section, string message)
        : base($"section '{section}': {message}")
    {
        Section = section;
    }

    public StateSectionException(string section, string message, Exception innerException)
        : base($"section '{section}': {message}", innerException)
    {
        Section = section;
    }

    public string? Section { get; }
}
