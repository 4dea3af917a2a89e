namespace Migration.Core.Transfer;

/// <summary>
/// The source's reader of the back channel. It runs for the whole migration, so that a destination that fails (an
/// Error message) or goes away (end of stream, reset) stops the source at once, mid-round, rather than at the next
/// point where the source would have read.
/// </summary>
internal sealed class DestinationListener : IDisposable
{
    private readonly Stream _channel;
    private readonly Func<string> _phase;
    private readonly Action _onFailure;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _rounds = new();
    private TaskCompletionSource _roundDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _lastRoundSent = -1;
    private int _lastRoundDone = -1;
    private string? _failure;
    private volatile bool _streamEnded;
    private volatile bool _committed;

    private DestinationListener(Stream channel, Func<string> phase, Action onFailure)
    {
        _channel = channel;
        _phase = phase;
        _onFailure = onFailure;
        Completion = Task.Run(RunAsync);
    }

    /// <summary>The cause, once the destination failed, left or broke the protocol; null while all is well.</summary>
    public string? Failure => Volatile.Read(ref _failure);

    /// <summary>True when the failure is the destination's own Error message.</summary>
    public bool DestinationReported { get; private set; }

    public Task Completion { get; }

    public Task Ready => _ready.Task;

    public Task Resumed => _resumed.Task;

    /// <param name="phase">Names where the source is, for messages ("round 2").</param>
    /// <param name="onFailure">Called once, from the listener's thread, on the first failure.</param>
    public static DestinationListener Start(Stream channel, Func<string> phase, Action onFailure) => new(channel, phase, onFailure);

    /// <summary>The round-end of <paramref name="round"/> is about to go out: its RoundDone is legitimate from now on.</summary>
    public void RoundSent(int round)
    {
        lock (_rounds)
        {
            _lastRoundSent = round;
        }
    }

    /// <summary>Completes once the destination has round <paramref name="round"/> in memory: nothing of it is in flight.</summary>
    public async Task RoundDoneAsync(int round, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_rounds)
            {
                if (_lastRoundDone >= round)
                {
                    return;
                }

                changed = _roundDone.Task;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The end frame is out: Ready is legitimate from now on.</summary>
    public void StreamEnded() => _streamEnded = true;

    /// <summary>Commit is (being) sent: Resumed is legitimate from now on.</summary>
    public void Committed() => _committed = true;

    /// <summary>Stops reading; the channel is left to its owner.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        try
        {
            while (true)
            {
                var message = await ControlChannel.ReadAsync(_channel, token).ConfigureAwait(false);
                switch (message?.Type)
                {
                    case null:
                        Fail($"destination closed the connection during {_phase()}");
                        return;
                    case ControlMessageType.Error:
                        DestinationReported = true;
                        Fail($"destination: {message.Reason}");
                        return;
                    case ControlMessageType.RoundDone:
                        if (!AcceptRound(message.Round))
                        {
                            Fail($"protocol violation: the destination sent {message} during {_phase()}");
                            return;
                        }

                        break;
                    case ControlMessageType.Ready when _streamEnded:
                        _ready.TrySetResult();
                        break;
                    case ControlMessageType.Resumed when _committed:
                        _resumed.TrySetResult();
                        return;
                    default:
                        Fail($"protocol violation: the destination sent {message} during {_phase()}");
                        return;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The migration is over either way; its outcome is already decided.
        }
        catch (InvalidDataException e)
        {
            Fail($"corrupt control message from the destination during {_phase()}: {e.Message}");
        }
#pragma warning disable CA1031 // Whatever ends the read (reset, disposal) means the destination is gone; the cause goes to the source.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Fail($"destination closed the connection during {_phase()} ({e.Message})");
        }
    }

    /// <summary>Rounds are acknowledged one by one, in order, and only once their round-end went out.</summary>
    private bool AcceptRound(int round)
    {
        TaskCompletionSource done;
        lock (_rounds)
        {
            if (round != _lastRoundDone + 1 || round > _lastRoundSent)
            {
                return false;
            }

            _lastRoundDone = round;
            done = _roundDone;
            _roundDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        done.TrySetResult();
        return true;
    }

    private void Fail(string cause)
    {
        if (Interlocked.CompareExchange(ref _failure, cause, null) is not null)
        {
            return;
        }

        var failure = new MigrationException(cause);
        _ready.TrySetException(failure);
        _resumed.TrySetException(failure);
        lock (_rounds)
        {
            _roundDone.TrySetException(failure);
        }

        _onFailure();
    }
}
