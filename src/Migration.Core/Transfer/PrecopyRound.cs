namespace Migration.Core.Transfer;

/// <summary>What one pre-copy round measured, as the policy sees it.</summary>
/// <param name="Bytes">Stream bytes the round's pages took.</param>
/// <param name="DirtyPages">Pages collected from the dirty log at the round's end: what the next round would send.</param>
/// <param name="DirtyInterval">Time between that collection and the previous one: the window the dirty pages accumulated in.</param>
/// <param name="ZeroPages">Pages of the round that were zero and cost next to nothing; they do not count towards the cost of a page.</param>
public readonly record struct PrecopyRound(int Number, int Pages, long Bytes, TimeSpan Duration, int DirtyPages, TimeSpan DirtyInterval, int ZeroPages = 0);
