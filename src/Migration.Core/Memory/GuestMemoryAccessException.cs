namespace Migration.Core.Memory;

/// <summary>A host-side access to guest memory fell outside RAM.</summary>
public sealed class GuestMemoryAccessException : Exception
{
    public GuestMemoryAccessException(ulong address, ulong length, GuestMemory memory)
        : base($"guest range 0x{address:x}+{length} is outside RAM 0x{memory.Base:x}..0x{memory.End:x}")
    {
        Address = address;
        Length = length;
    }

    public GuestMemoryAccessException()
    {
    }

    public GuestMemoryAccessException(string message) : base(message)
    {
    }

    public GuestMemoryAccessException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public ulong Address { get; }

    public ulong Length { get; }
}
