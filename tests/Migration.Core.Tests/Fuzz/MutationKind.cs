namespace Migration.Core.Tests.Fuzz;

public enum MutationKind
{
    FlipBit,
    Truncate,
    OverwriteRun,
    ForgeFrameLength,
}
