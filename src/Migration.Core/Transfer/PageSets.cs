namespace Migration.Core.Transfer;

internal static class PageSets
{
    /// <summary>
    /// The union of two strictly ascending page sequences, strictly ascending: the pages collected before the pause
    /// and those collected after it go out as one stop-and-copy round, each page once.
    /// </summary>
    public static IEnumerable<int> Union(IEnumerable<int> first, IEnumerable<int> second)
    {
        using var a = first.GetEnumerator();
        using var b = second.GetEnumerator();
        var hasA = a.MoveNext();
        var hasB = b.MoveNext();
        while (hasA && hasB)
        {
            if (a.Current < b.Current)
            {
                yield return a.Current;
                hasA = a.MoveNext();
            }
            else if (b.Current < a.Current)
            {
                yield return b.Current;
                hasB = b.MoveNext();
            }
            else
            {
                yield return a.Current;
                hasA = a.MoveNext();
                hasB = b.MoveNext();
            }
        }

        for (; hasA; hasA = a.MoveNext())
        {
            yield return a.Current;
        }

        for (; hasB; hasB = b.MoveNext())
        {
            yield return b.Current;
        }
    }
}
