namespace Migration.Core.Transfer;

/// <param name="Bytes">Stream bytes of the round's page frames and round-end.</param>
/// <param name="DirtyPagesAtEnd">Pages the guest dirtied while the round was sent: the next round's size.</param>
/// <param name="Throttle">The vCPU throttle while the round was sent.</param>
/// <param name="StopAndCopy">The last round, sent with the vCPU paused.</param>
public sealed record RoundReport(int Number, int Pages, long Bytes, TimeSpan Duration, int DirtyPagesAtEnd, double Throttle, bool StopAndCopy);
