namespace Migration.Machine.RiscV.Loader;

/// <summary>A PT_LOAD segment: file bytes to copy to <see cref="Address"/>, zero-filled up to <see cref="MemorySize"/>.</summary>
public sealed record ElfSegment(ulong Address, byte[] Data, ulong MemorySize);
