namespace Migration.Host.Api;

public sealed record MigrationRoundResult(int Round, int Pages, long Bytes, double Milliseconds, int DirtyPagesAtEnd, double Throttle, bool StopAndCopy);
