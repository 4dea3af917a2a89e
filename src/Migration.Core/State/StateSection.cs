namespace Migration.Core.State;

/// <summary>
/// One named, versioned piece of machine state (the CPU, the devices, the socket table, …) as it travels in a
/// checkpoint or a migration stream. The body is MessagePack with integer keys; the name and version say how to read it.
/// </summary>
public sealed record StateSection(string Name, int Version, byte[] Body)
{
    /// <summary>Names are short ASCII identifiers so a reader can bound and print them.</summary>
    public const int MaxNameLength = 32;
}
