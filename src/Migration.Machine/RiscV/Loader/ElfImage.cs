namespace Migration.Machine.RiscV.Loader;

/// <summary>A validated RV64 executable, ready to copy into guest RAM.</summary>
public sealed record ElfImage(string Name, ulong Entry, IReadOnlyList<ElfSegment> Segments, ulong? ToHostAddress);
