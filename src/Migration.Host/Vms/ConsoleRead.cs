namespace Migration.Host.Vms;

/// <summary>A slice of a VM's console: <see cref="Data"/> starts at <see cref="Offset"/>; <see cref="Missed"/> bytes before it are gone.</summary>
public readonly record struct ConsoleRead(long Offset, byte[] Data, long Missed, bool Ended)
{
    public long NextOffset => Offset + Data.Length;
}
