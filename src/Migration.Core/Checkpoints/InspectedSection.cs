namespace Migration.Core.Checkpoints;

public sealed record InspectedSection(string Name, int Version, int BodyBytes, long Offset);
