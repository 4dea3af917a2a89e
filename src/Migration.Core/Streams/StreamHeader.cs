namespace Migration.Core.Streams;

public sealed record StreamHeader(int FormatVersion, string MachineKind, int Length);
