using System.Diagnostics.CodeAnalysis;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Migration.Core.Checkpoints;
using Migration.Core.Sockets;
using Migration.Host.Api;
using Migration.Host.Jobs;
using Migration.Machine.RiscV;

namespace Migration.Host.Vms;

/// <summary>
/// One VM of the daemon: the machine, its console, its ports as they get bound, and its checkpoint series. Control
/// operations (pause, resume, checkpoint, terminate, and a migration through <see cref="AcquireControlAsync"/>) run one
/// at a time, so a checkpoint's own pause and resume can never undo a pause a user asked for in between.
/// </summary>
[SuppressMessage("Reliability", "CA1001", Justification = "The control semaphore never creates a wait handle, so it holds nothing to free; disposing it could fault a waiter of a VM being deleted.")]
public sealed class HostedVm
{
    private static readonly TimeSpan PauseTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _control = new(1, 1);
    private readonly Lock _portsLock = new();
    private readonly List<VmPortInfo> _ports = [];
    private readonly ILogger _logger;
    private RiscVMachine? _machine;
    private ulong _memorySize;
    private volatile bool _started;
    private volatile bool _paused;
    private volatile bool _disposed;
    private volatile string? _unresolved;
    private long _finishedAtUnixMilliseconds;
    private CheckpointSeries? _series;
    private string? _seriesDirectory;

    internal HostedVm(VmSpec spec, int consoleCapacity, ILogger logger)
    {
        Spec = spec;
        _logger = logger;
        Console = new ConsoleBuffer(consoleCapacity);
        ConsoleStream = new ConsoleSink(Console);
        foreach (var (port, host) in spec.Ports.Entries.OrderBy(e => e.Key))
        {
            _ports.Add(new VmPortInfo(port, null, host.ToString(), null));
        }
    }

    public VmSpec Spec { get; }

    /// <summary>The backend its machine's sockets use here (a migrated VM may have had another on its source).</summary>
    public NetworkBackend Network { get; internal set; }

    public string Id => Spec.Id;

    public ConsoleBuffer Console { get; }

    /// <summary>The machine; a migration source reads memory and state through it while it holds the control lock.</summary>
    public RiscVMachine Machine => _machine ?? throw new InvalidOperationException($"{Id} has no machine yet");

    public VmState State
    {
        get
        {
            if (_machine is { } machine && machine.Completion.IsCompletedSuccessfully)
            {
                return machine.Completion.Result.Kind == MachineExitKind.Faulted ? VmState.Faulted : VmState.Exited;
            }

            return !_started ? VmState.Created : _paused ? VmState.Paused : VmState.Running;
        }
    }

    public bool IsFinished => State is VmState.Exited or VmState.Faulted;

    /// <summary>Why the VM is held paused after a migration of unknown outcome; null when it is not.</summary>
    public string? Unresolved => _unresolved;

    internal Stream ConsoleStream { get; }

    /// <summary>When the guest ended; "now" in the moment between the machine completing and the record noticing.</summary>
    private DateTimeOffset FinishedAt => Volatile.Read(ref _finishedAtUnixMilliseconds) is var ms and not 0
        ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
        : DateTimeOffset.UtcNow;

    /// <summary>
    /// Takes the VM's control lock: until disposed, no pause, resume, checkpoint or delete runs on it. A migration holds
    /// it from the first round to the hand-over, so the VM's state cannot change under the transfer.
    /// </summary>
    public async Task<IDisposable> AcquireControlAsync(CancellationToken cancellationToken)
    {
        await _control.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new ControlLease(_control);
    }

    public VmInfo ToInfo()
    {
        var machine = _machine;
        VmPortInfo[] ports;
        lock (_portsLock)
        {
            ports = [.. _ports];
        }

        VmExitInfo? exit = null;
        var instructions = 0UL;
        if (machine is not null)
        {
            if (machine.Completion.IsCompletedSuccessfully)
            {
                var e = machine.Completion.Result;
                exit = new VmExitInfo(e.Kind, e.GuestExitCode, e.Message, e.InstructionsRetired, FinishedAt);
                instructions = e.InstructionsRetired;
            }
            else if (!_disposed)
            {
                instructions = machine.InstructionsRetired;
            }
        }

        return new VmInfo(
            Id,
            Spec.Name,
            State,
            _memorySize,
            Spec.Guest,
            Spec.Arguments,
            Spec.RestoredFrom,
            Spec.CreatedAt,
            ports,
            Console.End,
            instructions,
            exit,
            Network,
            Spec.ServiceAddress,
            _unresolved);
    }

    public async Task PauseAsync(CancellationToken cancellationToken)
    {
        using (await AcquireControlAsync(cancellationToken).ConfigureAwait(false))
        {
            EnsureLive("paused");
            if (_paused)
            {
                throw ApiException.Conflict($"{Id} is already paused");
            }

            // A bounded wait withdraws the request when it expires, so a timed-out pause leaves the VM running, not half-paused.
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(PauseTimeout);
            try
            {
                await Machine.PauseAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ApiException(StatusCodes.Status500InternalServerError, $"{Id}: the vCPU did not stop within {PauseTimeout.TotalSeconds:F0} s; the VM keeps running");
            }

            // The guest may have ended instead of parking; then the record says Exited, not Paused.
            _paused = !Machine.Completion.IsCompleted;
        }
    }

    /// <param name="force">
    /// Also resumes a VM held after a migration of unknown outcome: its operator has checked that the destination does
    /// not run it (else two copies would run). Connections frozen for the hand-over are put back on this host first.
    /// </param>
    public async Task ResumeAsync(bool force, CancellationToken cancellationToken)
    {
        using (await AcquireControlAsync(cancellationToken).ConfigureAwait(false))
        {
            EnsureLive("resumed");
            if (!_paused)
            {
                throw ApiException.Conflict($"{Id} is not paused");
            }

            if (_unresolved is { } reason)
            {
                if (!force)
                {
                    throw ApiException.Conflict($"{Id} is held: {reason}");
                }

                if (Machine.Sockets is { PreservesConnections: true } sockets)
                {
                    foreach (var problem in sockets.Thaw())
                    {
                        Log.ThawProblem(_logger, Id, problem);
                    }
                }

                _unresolved = null;
                Log.ResumedUnresolved(_logger, Id);
            }

            Machine.Resume();
            _paused = false;
        }
    }

    /// <summary>
    /// After a migration that sent Commit but never heard the destination take over: the engine left the machine
    /// paused and it must stay so until its operator knows where the guest runs. Called under the control lock.
    /// </summary>
    internal void HoldUnresolved(string destination)
    {
        _paused = true;
        _unresolved = $"a migration to {destination} committed, but the destination never confirmed it took the VM over; it may run it there. "
            + $"Check the destination: if it does not run {Id}, resume it here with vm resume --force {Id}; if it does, vm delete {Id} here";
    }

    /// <summary>Refuses (409) a checkpoint of a VM that has ended, before a job is made for it.</summary>
    public void EnsureCanCheckpoint()
    {
        EnsureLive("checkpointed");
        EnsureNotHeld("checkpointed");
    }

    /// <summary>Refuses (409) to copy a VM that may run on another host: a checkpoint or a migration of it could be a second copy.</summary>
    public void EnsureNotHeld(string verb)
    {
        if (_unresolved is { } reason)
        {
            throw ApiException.Conflict($"{Id} cannot be {verb} while it is held: {reason}");
        }
    }

    /// <summary>
    /// Writes a checkpoint into <paramref name="directory"/>: incremental on this VM's previous checkpoint there when
    /// asked and possible, full otherwise (the result's note says why). The guest is paused only for the capture —
    /// unless <paramref name="stop"/>: then it stays paused, its connections frozen into the file, for the caller to
    /// remove it.
    /// </summary>
    public async Task<CheckpointJobResult> CheckpointAsync(string directory, bool incremental, bool stop, HostJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        using (await AcquireControlAsync(cancellationToken).ConfigureAwait(false))
        {
            EnsureLive("checkpointed");
            EnsureNotHeld("checkpointed");
            CheckpointDirectory target;
            try
            {
                target = new CheckpointDirectory(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw ApiException.Unprocessable($"checkpoint directory {directory}: {e.Message}", e);
            }

            var (series, note) = ChooseSeries(target.Path, incremental);
            job.Report(series.LastDigest is null ? "writing a full checkpoint" : "writing an incremental checkpoint");
            CheckpointResult result;
            try
            {
                result = await target.WriteAsync(Machine, series, stop: stop, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (CheckpointException e)
            {
                throw ApiException.Unprocessable(e.Message, e);
            }
            catch (InvalidOperationException e) when (Machine.Completion.IsCompleted)
            {
                throw ApiException.Conflict($"{Id} ended during the checkpoint: {e.Message}");
            }

            _series = series;
            _seriesDirectory = target.Path;
            Log.Checkpointed(_logger, Id, result.Path!, result.Bytes, result.Paused.TotalMilliseconds);
            return new CheckpointJobResult(
                result.Path!,
                result.Sequence,
                result.IsIncremental,
                result.ParentDigest is { } parent ? parent.ToString("x16", System.Globalization.CultureInfo.InvariantCulture) : null,
                result.DigestText,
                result.Bytes,
                result.Pages.Pages,
                result.Sockets,
                result.Paused.TotalMilliseconds,
                result.Elapsed.TotalMilliseconds,
                note);
        }
    }

    internal void Attach(RiscVMachine machine, IReadOnlyList<SocketRebinding> rebindings)
    {
        // Offsets are the guest's console byte count, which a restored machine carries over.
        Console.StartAt(machine.ConsoleBytesWritten);
        _machine = machine;
        _memorySize = machine.Memory.Size;
        foreach (var r in rebindings)
        {
            RecordBinding(r.Guest.Port, r.Protocol, r.Current);
        }

        if (machine.Sockets is { } sockets)
        {
            // Raised on the vCPU thread inside a bind hypercall: only record.
            sockets.Bound += (socket, host) =>
            {
                if (socket.LocalAddress is { } local)
                {
                    RecordBinding(local.Port, socket.Protocol, IPEndPoint.TryParse(socket.HostEndpoint ?? "", out var actual) ? actual : host);
                }
            };
        }

        _ = machine.Completion.ContinueWith(t => OnFinishedAsync(t.Result), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
    }

    internal void Start()
    {
        _started = true;
        Machine.Start();
    }

    /// <summary>Stops the guest for good and frees its memory and host ports; waits behind any control operation in progress.</summary>
    internal async Task TerminateAsync()
    {
        using (await AcquireControlAsync(CancellationToken.None).ConfigureAwait(false))
        {
            if (_machine is not { } machine || _disposed)
            {
                return;
            }

            machine.Terminate();
            try
            {
                await machine.Completion.WaitAsync(StopTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Log.StopTimedOut(_logger, Id, StopTimeout.TotalSeconds);
            }

            _disposed = true;
            machine.Dispose();
        }
    }

    private (CheckpointSeries Series, string? Note) ChooseSeries(string directory, bool incremental)
    {
        // A full checkpoint starts a new series, so the next incremental one builds on it.
        if (!incremental)
        {
            return (new CheckpointSeries(), null);
        }

        if (_series is null)
        {
            return (new CheckpointSeries(), "no earlier checkpoint of this VM: wrote a full one");
        }

        if (!string.Equals(_seriesDirectory, directory, StringComparison.Ordinal))
        {
            return (new CheckpointSeries(), $"the previous checkpoint is in {_seriesDirectory}, where an incremental one here could not find its parent: wrote a full one");
        }

        return _series.CanContinue(Machine.Memory)
            ? (_series, null)
            : (new CheckpointSeries(), "the dirty log was consumed since the previous checkpoint (a failed checkpoint or a migration attempt): wrote a full one");
    }

    private void EnsureLive(string verb)
    {
        if (!_started || _machine is null)
        {
            throw ApiException.Conflict($"{Id} has not started: it cannot be {verb}");
        }

        if (_machine.Completion.IsCompletedSuccessfully)
        {
            var exit = _machine.Completion.Result;
            var how = exit.Kind switch
            {
                MachineExitKind.Exited => $"exited with code {exit.GuestExitCode}",
                MachineExitKind.Faulted => $"faulted ({exit.Message})",
                MachineExitKind.InstructionLimit => "stopped at its instruction limit",
                _ => "been stopped",
            };
            throw ApiException.Conflict($"{Id} has {how}: it cannot be {verb}");
        }
    }

    private void RecordBinding(int guestPort, VirtualSocketProtocol protocol, IPEndPoint host)
    {
        var name = protocol == VirtualSocketProtocol.Tcp ? "tcp" : "udp";
        lock (_portsLock)
        {
            var requested = Spec.Ports.Entries.TryGetValue(guestPort, out var mapped) ? mapped.ToString() : null;
            _ports.RemoveAll(p => p.GuestPort == guestPort && (p.Protocol is null || p.Protocol == name));
            _ports.Add(new VmPortInfo(guestPort, name, requested, host.ToString()));
            _ports.Sort((a, b) => a.GuestPort != b.GuestPort ? a.GuestPort.CompareTo(b.GuestPort) : string.CompareOrdinal(a.Protocol, b.Protocol));
        }
    }

    /// <summary>
    /// A finished guest needs neither its memory nor its host ports, so both go now; the record — state, exit, console —
    /// stays until the VM is deleted. Under the control lock, so a checkpoint still reading the memory finishes first.
    /// </summary>
    private async Task OnFinishedAsync(MachineExit exit)
    {
        Volatile.Write(ref _finishedAtUnixMilliseconds, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Console.Finish();
        Log.Finished(_logger, Id, exit);
        using (await AcquireControlAsync(CancellationToken.None).ConfigureAwait(false))
        {
            if (!_disposed)
            {
                _disposed = true;
                Machine.Dispose();
            }
        }
    }
}
