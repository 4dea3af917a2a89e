using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Migration.Core.Memory;

namespace Migration.Core.Pages;

/// <summary>
/// Decodes batches as they arrive (from a stream or a socket) on several cores, while the producer keeps reading.
/// Same rules as <see cref="PageCodec.Decode"/>: batches of one decoder must not share a page.
/// </summary>
public sealed class ParallelPageDecoder : IAsyncDisposable
{
    private readonly GuestMemory _target;
    private readonly PageDecodeOptions _options;
    private readonly PageClaimMap _claims;
    private readonly Channel<Work> _queue;
    private readonly Task[] _workers;
    private readonly Lock _gate = new();
    private PageBatchStats _total;
    private ExceptionDispatchInfo? _failure;
    private volatile bool _abandoned;

    public ParallelPageDecoder(GuestMemory target, PageDecodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        _target = target;
        _options = options ?? PageDecodeOptions.Default;
        _claims = new PageClaimMap(target.PageCount);
        var degree = _options.MaxDegreeOfParallelism;
        // Two batches queued per worker: enough to hide the producer's jitter, little enough to bound memory held.
        _queue = Channel.CreateBounded<Work>(new BoundedChannelOptions(2 * degree) { SingleReader = degree == 1 });
        _workers = new Task[degree];
        for (var i = 0; i < degree; i++)
        {
            _workers[i] = Task.Run(RunAsync);
        }
    }

    /// <summary>True from the moment a worker meets a failure; lets a producer stop reading early. <see cref="CompleteAsync"/> throws it.</summary>
    public bool Failed => Volatile.Read(ref _failure) is not null;

    /// <summary>
    /// Queues a batch; <paramref name="owner"/>, if given, is disposed once the batch has been decoded or dropped, which
    /// is when its buffer may be reused. Throws the first decoding failure, if one has happened, instead of queuing.
    /// </summary>
    public ValueTask AddAsync(ReadOnlyMemory<byte> batch, IDisposable? owner = null, CancellationToken cancellationToken = default) =>
        AddAsync(batch, owner, origin: 0, cancellationToken);

    /// <summary>
    /// As above, for a batch found at byte <paramref name="origin"/> of a larger input (a stream frame): a failure then
    /// reports its offset within that input rather than within the batch.
    /// </summary>
    public async ValueTask AddAsync(ReadOnlyMemory<byte> batch, IDisposable? owner, long origin, CancellationToken cancellationToken = default)
    {
        var queued = false;
        try
        {
            Volatile.Read(ref _failure)?.Throw();
            await _queue.Writer.WriteAsync(new Work(batch, owner, origin), cancellationToken).ConfigureAwait(false);
            queued = true;
        }
        finally
        {
            if (!queued)
            {
                owner?.Dispose();
            }
        }
    }

    /// <summary>Queues an encoded batch and disposes it once decoded.</summary>
    public ValueTask AddAsync(PageBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return AddAsync(batch.Memory, batch, cancellationToken);
    }

    /// <summary>Waits for every queued batch; returns the totals or throws the first failure.</summary>
    public async Task<PageBatchStats> CompleteAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
        Volatile.Read(ref _failure)?.Throw();
        lock (_gate)
        {
            return _total;
        }
    }

    /// <summary>Without <see cref="CompleteAsync"/> first, batches still queued are dropped undecoded (their owners freed).</summary>
    public async ValueTask DisposeAsync()
    {
        _abandoned = true;
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        await foreach (var work in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                // After a failure or an abandon the rest is drained unread: the session is over, but owners must be freed.
                if (!_abandoned && Volatile.Read(ref _failure) is null)
                {
                    var stats = PageBatchDecoder.Decode(work.Batch.Span, _target, _options, _claims);
                    lock (_gate)
                    {
                        _total = _total.Add(stats);
                    }
                }
            }
            catch (PageBatchException e) when (work.Origin != 0)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(new PageBatchException(e.Problem, work.Origin + e.Offset)), null);
            }
            catch (Exception e)
            {
                // Any failure, not only a bad batch, must stop the session and reach the producer: a worker that
                // died silently would leave the producer blocked on a full queue.
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
            finally
            {
                work.Owner?.Dispose();
            }
        }
    }

    private readonly record struct Work(ReadOnlyMemory<byte> Batch, IDisposable? Owner, long Origin);
}
