using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using Migration.Core.Machines;
using Migration.Core.Memory;
using Migration.Core.Pages;
using Migration.Core.State;
using Migration.Core.Streams;

namespace Migration.Core.Transfer;

/// <summary>
/// The sending side of a live migration: pre-copy rounds while the guest runs, stop-and-copy, then the two-phase
/// hand-over (PROTOCOL.md). Until Commit is sent, every failure rolls back: the throttle is lifted, the vCPU resumed if
/// it ran, and a <see cref="MigrationException"/> names the cause. After Commit the VM is never resumed here.
/// </summary>
public sealed class MigrationSource
{
    private readonly IVirtualMachine _machine;
    // The TCP socket under the channel, when there is one: for NoDelay and the half-close, which TLS does not offer.
    private readonly Socket? _socket;
    private Stream _channel;
    private SslStream? _tls;
    private readonly IReadOnlyList<StateSection> _leadingSections;
    private readonly MigrationOptions _options;
    private readonly IProgress<MigrationProgress>? _progress;
    private readonly PrecopyPolicy _policy;
    private readonly TokenBucket _bucket;
    private readonly PageCodecOptions _codec;
    private readonly List<RoundReport> _rounds = [];
    private readonly long _started = Stopwatch.GetTimestamp();
    private static readonly TimeSpan ThawWaitLimit = TimeSpan.FromSeconds(3);
    private MigrationStreamWriter? _writer;
    private DestinationListener? _listener;
    private PageBatchStats _pages;
    private PrecopyDecision? _decision;
    private volatile string _phase = "setup";
    private bool _wasRunning;
    private bool _streamEnded;
    private bool _commitAttempted;
    private bool _socketsFrozen;
    private long _pausedAt;
    private double _maxThrottle;
    private long _lastProgress;

    private MigrationSource(IVirtualMachine machine, Stream channel, IReadOnlyList<StateSection> leadingSections, MigrationOptions options, IProgress<MigrationProgress>? progress)
    {
        _machine = machine;
        _channel = channel;
        _socket = (channel as NetworkStream)?.Socket;
        _leadingSections = leadingSections;
        _options = options;
        _progress = progress;
        _policy = PrecopyPolicy.For(options);
        _bucket = new TokenBucket(options.MaxBandwidth);
        _codec = new PageCodecOptions { Compress = options.Compress, MaxDegreeOfParallelism = options.CompressionThreads };
    }

    private long BytesSent => _writer?.BytesWritten ?? 0;

    /// <summary>
    /// Migrates <paramref name="machine"/> over <paramref name="channel"/>, a fresh connection to a destination running
    /// <see cref="MigrationDestination.ReceiveAsync"/>. On success the destination owns the guest and the machine here
    /// is left paused for the caller to dispose. After a failure the channel is unusable; the caller disposes it.
    /// </summary>
    /// <param name="leadingSections">Sections the stream carries after the machine section (the daemon's VM id, …).</param>
    /// <exception cref="MigrationAuthenticationException">The secret was refused; nothing moved.</exception>
    /// <exception cref="MigrationException">The migration failed; <see cref="MigrationException.Outcome"/> says where the guest is.</exception>
    public static Task<MigrationReport> MigrateAsync(
        IVirtualMachine machine,
        Stream channel,
        IReadOnlyList<StateSection> leadingSections,
        MigrationOptions options,
        IProgress<MigrationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(leadingSections);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var section in leadingSections)
        {
            if (SectionNames.IsCore(section.Name))
            {
                throw new ArgumentException($"leading section '{section.Name}' uses a name the stream reserves", nameof(leadingSections));
            }
        }

        return new MigrationSource(machine, channel, leadingSections, options, progress).RunAsync(cancellationToken);
    }

    private async Task<MigrationReport> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await RunOverChannelAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Only the TLS session is this class's: the connection under it stays the caller's.
            if (_tls is not null)
            {
                await _tls.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<MigrationReport> RunOverChannelAsync(CancellationToken cancellationToken)
    {
        if (_machine.State is MachineRunState.Exited or MachineRunState.Faulted)
        {
            throw new MigrationException($"the machine has {(_machine.State == MachineRunState.Exited ? "exited" : "faulted")}: there is nothing to migrate", MigrationOutcome.RolledBack);
        }

        _wasRunning = _machine.State == MachineRunState.Running;
        Report(MigrationPhase.Setup, 0, 0);
        CodecWarmUp.Run();
        if (_socket is not null)
        {
            // Control messages are a few bytes each and sit on the downtime's critical path: never hold them back.
            _socket.NoDelay = true;
        }

        try
        {
            if (_options.Tls is { } tls)
            {
                _tls = await TlsChannel.ConnectAsync(_channel, tls, _options.AuthenticationTimeout, cancellationToken).ConfigureAwait(false);
                _channel = _tls;
            }

            await ChannelAuthenticator.AuthenticateClientAsync(_channel, _options.Secret, _options.AuthenticationTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            Report(MigrationPhase.Failed, 0, 0);
            throw new MigrationException("cancelled during authentication; nothing was sent", MigrationOutcome.RolledBack, e);
        }
        catch
        {
            Report(MigrationPhase.Failed, 0, 0);
            throw;
        }

        FaultPoint.Reach("source", "setup");
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _listener = DestinationListener.Start(_channel, () => _phase, () => CancelQuietly(abort));
        try
        {
            var pending = await PrecopyAsync(abort.Token).ConfigureAwait(false);
            await StopAndCopyAsync(pending, abort.Token).ConfigureAwait(false);
            return await HandOverAsync(abort.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!_commitAttempted)
        {
            throw await RollBackAsync(e, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _listener.Dispose();
        }
    }

    /// <summary>Rounds 0, 1, … while the guest runs; returns the dirty pages left when the policy says stop.</summary>
    private async Task<DirtyPageSet> PrecopyAsync(CancellationToken cancellationToken)
    {
        var log = _machine.Memory.DirtyLog;
        _phase = "the stream's preamble";
        _writer = new MigrationStreamWriter(new StallGuardStream(_channel, _options.StallTimeout, "destination"), _machine.Kind);
        await MachineStateWriter.WritePreambleAsync(_writer, _machine, _leadingSections, cancellationToken).ConfigureAwait(false);

        // Collect first: from here on the log holds exactly what changes while round 0 goes out.
        log.CollectAndClear();
        var collectedAt = Stopwatch.GetTimestamp();
        var pages = log.WrittenPages();
        for (var round = 0; ; round++)
        {
            _phase = $"round {round}";
            var throttle = _machine.Throttle;
            var (bytes, duration, stats) = await SendRoundAsync(round, pages, pages.Count, MigrationPhase.Precopy, cancellationToken).ConfigureAwait(false);
            var dirty = log.CollectAndClear();
            var now = Stopwatch.GetTimestamp();
            var interval = Stopwatch.GetElapsedTime(collectedAt, now);
            collectedAt = now;
            _rounds.Add(new RoundReport(round, pages.Count, bytes, duration, dirty.Count, throttle, StopAndCopy: false));
            _decision = _policy.Next(new PrecopyRound(round, pages.Count, bytes, duration, dirty.Count, interval, stats.ZeroPages));
            if (!_decision.StopAndCopy && _decision.Throttle != throttle)
            {
                _machine.Throttle = _decision.Throttle;
                _maxThrottle = Math.Max(_maxThrottle, _decision.Throttle);
            }

            Report(MigrationPhase.Precopy, round + 1, dirty.Count);
            if (_decision.StopAndCopy)
            {
                return dirty;
            }

            pages = dirty;
        }
    }

    private async Task StopAndCopyAsync(DirtyPageSet pending, CancellationToken cancellationToken)
    {
        var round = _rounds.Count;
        _phase = "stop-and-copy";
        Report(MigrationPhase.StopAndCopy, round, pending.Count);
        _pausedAt = Stopwatch.GetTimestamp();
        if (_machine.State == MachineRunState.Running)
        {
            await _machine.PauseAsync(cancellationToken).ConfigureAwait(false);
        }

        var throttle = _machine.Throttle;
        _machine.Throttle = 0;
        if (_machine.Sockets is { PreservesConnections: true } sockets)
        {
            // Connections are frozen with the vCPU: their kernel state goes into the socket table captured next.
            _phase = "the connections' freeze";
            _socketsFrozen = true;
            // Not cancellable: a freeze stopped half-way would leave connections with neither a host socket nor a state.
            await sockets.FreezeAsync(CancellationToken.None).ConfigureAwait(false);
            _phase = "stop-and-copy";
        }

        // The machine is parked, so its sections are final; taken before more is written, so a machine that cannot
        // describe itself (it exited meanwhile) fails before the stream's end.
        var state = MachineStateWriter.CaptureParkedState(_machine);
        var final = _machine.Memory.DirtyLog.CollectAndClear();
        _bucket.Lift();
        var (bytes, duration, stats) = await SendRoundAsync(round, PageSets.Union(pending, final), pending.Count + final.Count, MigrationPhase.StopAndCopy, cancellationToken).ConfigureAwait(false);
        _rounds.Add(new RoundReport(round, stats.Pages, bytes, duration, 0, throttle, StopAndCopy: true));
        await MachineStateWriter.WriteParkedStateAsync(_writer!, state, cancellationToken).ConfigureAwait(false);
        _streamEnded = true;
        _listener!.StreamEnded();
        await _writer!.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<MigrationReport> HandOverAsync(CancellationToken cancellationToken)
    {
        _phase = "the hand-over";
        Report(MigrationPhase.Handover, _rounds.Count - 1, 0);
        var timeout = _options.HandoverTimeout;
        try
        {
            await _listener!.Ready.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"the destination did not confirm it holds the complete state within {timeout.TotalSeconds:0.#} s", e);
        }

        // From here on the guest may run there: whatever happens, it is never resumed here.
        _commitAttempted = true;
        _listener.Committed();
        try
        {
            using var deadline = new CancellationTokenSource(timeout);
            await ControlChannel.WriteAsync(_channel, ControlMessage.Commit(_wasRunning), deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Report(MigrationPhase.Failed, _rounds.Count - 1, 0);
            throw new MigrationException(
                $"sending Commit failed ({e.Message}): the outcome is unknown — the destination may have the VM; it stays paused here", MigrationOutcome.Unknown, e);
        }

        FaultPoint.Reach("source", "after-commit");

        try
        {
            await _listener.Resumed.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Report(MigrationPhase.Failed, _rounds.Count - 1, 0);
            // The listener's cause first: its failure also cancels the wait, which must not hide why.
            var cause = _listener.Failure ?? e switch
            {
                TimeoutException => $"the destination did not confirm within {timeout.TotalSeconds:0.#} s that it resumed the VM",
                OperationCanceledException => "the migration was cancelled while waiting for the destination to resume the VM",
                _ => e.Message,
            };
            throw new MigrationException(
                $"Commit was sent, but {cause}: the outcome is unknown — the destination may run the VM; it stays paused here", MigrationOutcome.Unknown, e);
        }

        var downtime = Stopwatch.GetElapsedTime(_pausedAt);
        Report(MigrationPhase.Completed, _rounds.Count - 1, 0);
        return new MigrationReport(
            Stopwatch.GetElapsedTime(_started),
            downtime,
            _rounds,
            BytesSent,
            _pages.Pages,
            _pages.EncodedBytes > 0 ? (double)_pages.InputBytes / _pages.EncodedBytes : 1,
            _maxThrottle,
            _options.DowntimeTarget,
            _decision?.ExpectedDowntime ?? TimeSpan.Zero,
            _decision?.Reason ?? SwitchoverReason.Converged);
    }

    /// <summary>Sends one round's pages and its round-end; encoding runs ahead on the codec's threads while earlier batches are written.</summary>
    private async Task<(long Bytes, TimeSpan Duration, PageBatchStats Stats)> SendRoundAsync(
        int round, IEnumerable<int> pages, long count, MigrationPhase phase, CancellationToken cancellationToken)
    {
        var writer = _writer!;
        var startBytes = writer.BytesWritten;
        var started = Stopwatch.GetTimestamp();
        var stats = default(PageBatchStats);
        await foreach (var batch in PageCodec.EncodeAsync(_machine.Memory, pages, _codec, cancellationToken).ConfigureAwait(false))
        {
            using (batch)
            {
                await _bucket.TakeAsync(batch.Length + StreamFormat.FrameHeaderSize + StreamFormat.ChecksumSize, cancellationToken).ConfigureAwait(false);
                await writer.WritePagesAsync(batch.Memory, cancellationToken).ConfigureAwait(false);
                stats = stats.Add(batch.Stats);
            }

            if (Stopwatch.GetElapsedTime(_lastProgress) >= _options.ProgressInterval)
            {
                Report(phase, round, Math.Max(0, count - stats.Pages));
            }
        }

        if (FaultPoint.IsArmed)
        {
            FaultPoint.Reach("source", phase == MigrationPhase.StopAndCopy ? "stop-and-copy" : $"round-{round}");
        }

        _listener!.RoundSent(round);
        await writer.WriteRoundEndAsync(round, cancellationToken).ConfigureAwait(false);
        _pages = _pages.Add(stats);
        var bytes = writer.BytesWritten - startBytes;
        if (phase == MigrationPhase.Precopy)
        {
            // Written is not sent: the socket buffers hold megabytes. Waiting until the destination has the round in
            // memory measures the bandwidth end to end, and leaves nothing in flight that the pause would wait for.
            try
            {
                await _listener.RoundDoneAsync(round, cancellationToken).WaitAsync(_options.HandoverTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"the destination did not acknowledge round {round} within {_options.HandoverTimeout.TotalSeconds:0.#} s", e);
            }
        }

        return (bytes, Stopwatch.GetElapsedTime(started), stats);
    }

    private async Task<MigrationException> RollBackAsync(Exception e, CancellationToken cancellationToken)
    {
        var listener = _listener!;
        if (listener.Failure is null && !cancellationToken.IsCancellationRequested && e is IOException or SocketException or ObjectDisposedException)
        {
            // A write that failed because the destination went away races the listener, which learns why: let it speak.
            await listener.Completion.WaitAsync(TimeSpan.FromMilliseconds(500), CancellationToken.None)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        var cause = listener.Failure ?? e switch
        {
            _ when cancellationToken.IsCancellationRequested => $"cancelled during {_phase}",
            ChannelStalledException => $"the connection stalled during {_phase}: {e.Message}",
            TimeoutException => e.Message,
            IOException or SocketException => $"the connection failed during {_phase}: {e.Message}",
            _ => $"{_phase} failed: {e.Message}",
        };

        _machine.Throttle = 0;
        if (_streamEnded && !listener.DestinationReported)
        {
            // The destination may hold a built machine waiting for Commit: tell it to discard now rather than time out.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await SendQuietlyAsync(ControlMessage.Error($"source: {cause}"), deadline.Token).ConfigureAwait(false);
        }

        var lost = "";
        if (_socketsFrozen)
        {
            lost = await ThawAsync(listener).ConfigureAwait(false);
        }

        if (_wasRunning)
        {
            _machine.Resume();
        }

        if (_socket is not null)
        {
            // Mid-stream the destination can only learn of the end from the connection: half-close it now.
            try
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception shutdown) when (shutdown is SocketException or ObjectDisposedException)
            {
            }
        }

        Report(MigrationPhase.RolledBack, Math.Max(0, _rounds.Count - 1), 0);
        // A guest that ended by itself mid-migration is neither running nor as it was: say what it did.
        var where = _machine.State is MachineRunState.Exited or MachineRunState.Faulted
            ? $"ended here during the migration ({_machine.State.ToString().ToLowerInvariant()})"
            : _wasRunning ? "keeps running here" : "stays here as it was";
        return new MigrationException($"{cause}; the migration was rolled back and the VM {where}{lost}", MigrationOutcome.RolledBack, e);
    }

    /// <summary>
    /// Puts the frozen connections back on this host. A destination that re-created them must have let go first (two
    /// sockets cannot own one connection), so the channel's end — the destination discarding, or dying — is awaited, briefly.
    /// </summary>
    private async Task<string> ThawAsync(DestinationListener listener)
    {
        if (_socket is not null)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception shutdown) when (shutdown is SocketException or ObjectDisposedException)
            {
            }
        }

        await listener.Completion.WaitAsync(ThawWaitLimit, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var problems = _machine.Sockets!.Thaw();
        return problems.Count == 0 ? "" : $" (but {problems.Count} connection(s) could not be kept: {problems[0]})";
    }

    private async Task SendQuietlyAsync(ControlMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await ControlChannel.WriteAsync(_channel, message, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Best effort on a connection that may already be gone; the rollback's own cause is what matters.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Report(MigrationPhase phase, int round, long pagesLeft)
    {
        _lastProgress = Stopwatch.GetTimestamp();
        if (_progress is null)
        {
            return;
        }

        var expected = phase is MigrationPhase.Precopy or MigrationPhase.StopAndCopy ? _policy.ExpectedDowntime(pagesLeft) : TimeSpan.Zero;
        _progress.Report(new MigrationProgress(
            phase,
            round,
            pagesLeft,
            _decision?.DirtyPagesPerSecond ?? 0,
            _policy.BandwidthBytesPerSecond,
            expected == TimeSpan.MaxValue ? TimeSpan.Zero : expected,
            BytesSent,
            _machine.Throttle));
    }
}
