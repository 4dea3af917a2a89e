namespace Migration.Machine.RiscV.Loader;

/// <summary>A guest executable was refused; the message names the file and the reason in one line.</summary>
public sealed class ElfLoadException : Exception
{
    public ElfLoadException()
    {
    }

    public ElfLoadException(string message) : base(message)
    {
    }

    public ElfLoadException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
