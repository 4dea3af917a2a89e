using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Migration.Core.Memory;

namespace Migration.Core.Pages;

/// <summary>
/// Encodes page sets into batches on several cores, handing batches to the consumer in page order; decodes
/// sequences of batches on several cores.
/// </summary>
/// <remarks>
/// Batches are cut by position in the page sequence (every <see cref="PageCodecOptions.PagesPerBatch"/> pages) and each
/// is encoded by one thread from the same bytes, so the output does not depend on the degree of parallelism.
/// </remarks>
public static class PageCodec
{
    /// <summary>Every page of the memory, in order: what a full checkpoint or pre-copy round 0 sends.</summary>
    public static IEnumerable<int> AllPages(GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        return Enumerable.Range(0, memory.PageCount);
    }

    /// <summary>
    /// Lazily encodes <paramref name="pages"/> (strictly ascending, as a <see cref="DirtyPageSet"/> enumerates).
    /// Up to twice the degree of parallelism batches are encoded ahead of the consumer. The memory must stay alive
    /// until the enumeration ends; stopping early waits for batches in flight and disposes them.
    /// </summary>
    public static IEnumerable<PageBatch> Encode(GuestMemory memory, IEnumerable<int> pages, PageCodecOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(pages);
        return EncodeIterator(memory, pages, options ?? PageCodecOptions.Default);
    }

    public static IAsyncEnumerable<PageBatch> EncodeAsync(
        GuestMemory memory, IEnumerable<int> pages, PageCodecOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(pages);
        return EncodeAsyncIterator(memory, pages, options ?? PageCodecOptions.Default, cancellationToken);
    }

    /// <summary>
    /// Decodes batches on up to <see cref="PageDecodeOptions.MaxDegreeOfParallelism"/> cores. The batches must not
    /// share a page (true of the batches of one encode); one that does is refused before it writes. A batch that fails
    /// writes nothing, but batches decoded before the failure stay written.
    /// </summary>
    public static PageBatchStats Decode(IEnumerable<ReadOnlyMemory<byte>> batches, GuestMemory target, PageDecodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(target);
        options ??= PageDecodeOptions.Default;
        var claims = new PageClaimMap(target.PageCount);
        var total = default(PageBatchStats);
        if (options.MaxDegreeOfParallelism == 1)
        {
            foreach (var batch in batches)
            {
                total = total.Add(PageBatchDecoder.Decode(batch.Span, target, options, claims));
            }

            return total;
        }

        var gate = new Lock();
        try
        {
            // No buffering: each worker takes the next batch only when it is free, so a lazily produced sequence
            // (batches arriving from a stream) is consumed as it arrives.
            Parallel.ForEach(
                Partitioner.Create(batches, EnumerablePartitionerOptions.NoBuffering),
                new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism },
                () => default(PageBatchStats),
                (batch, _, local) => local.Add(PageBatchDecoder.Decode(batch.Span, target, options, claims)),
                local =>
                {
                    lock (gate)
                    {
                        total = total.Add(local);
                    }
                });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }

        return total;
    }

    private static IEnumerable<PageBatch> EncodeIterator(GuestMemory memory, IEnumerable<int> pages, PageCodecOptions options)
    {
        var degree = options.MaxDegreeOfParallelism;
        if (degree == 1)
        {
            foreach (var chunk in PageChunk.Split(memory, pages, options.PagesPerBatch))
            {
                using (chunk)
                {
                    yield return PageBatchEncoder.EncodeChecked(memory, chunk.Pages, options);
                }
            }

            yield break;
        }

        var scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, degree).ConcurrentScheduler;
        var inFlight = new Queue<Task<PageBatch>>();
        try
        {
            foreach (var chunk in PageChunk.Split(memory, pages, options.PagesPerBatch))
            {
                inFlight.Enqueue(Start(memory, chunk, options, scheduler));
                if (inFlight.Count >= 2 * degree)
                {
                    yield return inFlight.Dequeue().GetAwaiter().GetResult();
                }
            }

            while (inFlight.Count > 0)
            {
                yield return inFlight.Dequeue().GetAwaiter().GetResult();
            }
        }
        finally
        {
            DisposeInFlight(inFlight);
        }
    }

    private static async IAsyncEnumerable<PageBatch> EncodeAsyncIterator(
        GuestMemory memory, IEnumerable<int> pages, PageCodecOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var degree = options.MaxDegreeOfParallelism;
        var scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, degree).ConcurrentScheduler;
        var inFlight = new Queue<Task<PageBatch>>();
        try
        {
            foreach (var chunk in PageChunk.Split(memory, pages, options.PagesPerBatch))
            {
                cancellationToken.ThrowIfCancellationRequested();
                inFlight.Enqueue(Start(memory, chunk, options, scheduler));
                if (inFlight.Count >= 2 * degree)
                {
                    yield return await inFlight.Dequeue().ConfigureAwait(false);
                }
            }

            while (inFlight.Count > 0)
            {
                yield return await inFlight.Dequeue().ConfigureAwait(false);
            }
        }
        finally
        {
            await DisposeInFlightAsync(inFlight).ConfigureAwait(false);
        }
    }

    private static Task<PageBatch> Start(GuestMemory memory, PageChunk chunk, PageCodecOptions options, TaskScheduler scheduler) =>
        Task.Factory.StartNew(
            () =>
            {
                using (chunk)
                {
                    return PageBatchEncoder.EncodeChecked(memory, chunk.Pages, options);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.DenyChildAttach,
            scheduler);

    /// <summary>Waits for batches the consumer will never see, so none reads guest memory after the caller moves on.</summary>
    private static void DisposeInFlight(Queue<Task<PageBatch>> inFlight)
    {
        while (inFlight.TryDequeue(out var task))
        {
            // The consumer has already left with its own exception, if any: that is the one to see, not this task's.
            ((Task)task).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing).GetAwaiter().GetResult();
            if (task.IsCompletedSuccessfully)
            {
                task.Result.Dispose();
            }
        }
    }

    private static async ValueTask DisposeInFlightAsync(Queue<Task<PageBatch>> inFlight)
    {
        while (inFlight.TryDequeue(out var task))
        {
            await ((Task)task).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (task.IsCompletedSuccessfully)
            {
                task.Result.Dispose();
            }
        }
    }
}
