using System.Diagnostics;
using System.Text;
using Migration.Core.Machines;
using Migration.Core.Memory;
using Migration.Core.Sockets;
using Migration.Machine.RiscV.Cpu;
using Migration.Machine.RiscV.Devices;
using Migration.Machine.RiscV.Hypercalls;
using Migration.Machine.RiscV.Loader;

namespace Migration.Machine.RiscV;

/// <summary>
/// The reference machine: one RV64IM hart on its own thread, guest RAM with a dirty log, a console and a clock.
/// </summary>
public sealed partial class RiscVMachine : IVirtualMachine
{
    public const string MachineKind = "riscv64im";

    /// <summary>Bound on the argument block the host writes at the top of RAM.</summary>
    public const int MaxArgumentBytes = 64 * 1024;

    private const int RegisterA0 = 10;

    // A throttled vCPU runs slices of about this long, then is held for its share of the time.
    private static readonly long ThrottleSliceTicks = Stopwatch.Frequency / 1000;
    private const ulong MinSliceInstructions = 10_000;
    private const ulong MaxSliceInstructions = 50_000_000;

    private readonly Hart _hart;
    private readonly HypercallDispatcher _hypercalls;
    private readonly MachineOptions _options;
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly TaskCompletionSource<MachineExit> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Thread? _thread;
    private TaskCompletionSource? _paused;
    private bool _pauseRequested;
    private bool _terminateRequested;
    private int _disposed;
    private volatile MachineRunState _state = MachineRunState.Created;
    private double _throttle;
    private bool _throttleKick;

    // vCPU thread only: hold time owed, and the slice length that ran for about ThrottleSliceTicks last time.
    private long _throttleDebtTicks;
    private ulong _sliceInstructions = 1_000_000;

    /// <summary>
    /// Builds the machine around RAM it adopts; the factories fill RAM and the hart. On failure the memory is not
    /// disposed here: whoever passed it still owns it.
    /// </summary>
    private RiscVMachine(GuestMemory memory, MachineOptions options, ulong? toHostAddress, long consoleBytesWritten)
    {
        _options = options;
        Memory = memory;
        try
        {
            SocketHypercalls? socketCalls = null;
            if (options.Network is not null)
            {
                Sockets = new VirtualSocketStack(options.Network, options.Ports, options.MaxSockets);
                Sockets.Changed += WakeVcpu;
                socketCalls = new SocketHypercalls(Memory, Clock, Sockets);
            }

            _hypercalls = new HypercallDispatcher(Memory, Clock, options.Console, socketCalls) { ConsoleBytesWritten = consoleBytesWritten };
            _hart = new Hart(Memory, _hypercalls, toHostAddress);
        }
        catch
        {
            Sockets?.Dispose();
            throw;
        }
    }

    public string Kind => MachineKind;

    public GuestMemory Memory { get; }

    public GuestClock Clock { get; } = new();

    /// <summary>The guest's sockets; null when the machine has no network.</summary>
    public VirtualSocketStack? Sockets { get; }

    public MachineRunState State => _state;

    /// <summary>
    /// Fraction of wall time the running vCPU is held: it runs slices of about 1 ms and then waits
    /// throttle / (1 − throttle) of each. Time a guest spends blocked in a hypercall is not run time and owes nothing.
    /// At 0 the vCPU runs unsliced, exactly as without a throttle.
    /// </summary>
    public double Throttle
    {
        get => Volatile.Read(ref _throttle);
        set
        {
            if (!(value >= 0 && value < 1))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "the throttle is a fraction of time in [0, 1)");
            }

            lock (_gate)
            {
                var was = _throttle;
                Volatile.Write(ref _throttle, value);
                if (_disposed != 0)
                {
                    return;
                }

                if (was == 0 && value > 0 && _thread is not null && !_pauseRequested && !_terminateRequested)
                {
                    // An unthrottled vCPU is inside one unbounded run: make it leave, so that the next run is a slice.
                    _throttleKick = true;
                    _hart.State.StopRequested = 1;
                }
                else if (value == 0)
                {
                    // Ends a hold in progress.
                    _wake.Set();
                }
            }
        }
    }

    public Task<MachineExit> Completion => _completion.Task;

    public ulong Pc => _hart.State.Pc;

    public ulong InstructionsRetired => _hart.State.Instret;

    /// <summary>
    /// Bytes the guest has written to its console over its whole life, including before the checkpoint it was
    /// restored from: the first this-many bytes of a captured machine's output, joined with what its restored
    /// copy prints, are the output of an uninterrupted run.
    /// </summary>
    public long ConsoleBytesWritten => _hypercalls.ConsoleBytesWritten;

    /// <summary>Loads an ELF file into a new machine; refused files raise <see cref="ElfLoadException"/>.</summary>
    public static RiscVMachine Load(string elfPath, MachineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Create(ElfLoader.Load(elfPath, GuestMemory.DefaultBase, options.MemorySize), options);
    }

    public static RiscVMachine Create(ElfImage image, MachineOptions options)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(options);
        var memory = new GuestMemory(options.MemorySize, GuestMemory.DefaultBase, options.MemoryBacking);
        RiscVMachine machine;
        try
        {
            machine = new RiscVMachine(memory, options, image.ToHostAddress, consoleBytesWritten: 0);
        }
        catch
        {
            memory.Dispose();
            throw;
        }

        try
        {
            machine.LoadImage(image);
            return machine;
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    /// <summary>Reads an integer register; only meaningful while the machine is paused or finished.</summary>
    public ulong GetRegister(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return (uint)index < 32 ? _hart.State[index] : throw new ArgumentOutOfRangeException(nameof(index));
    }

    public void Start()
    {
        lock (_gate)
        {
            if (_thread is not null)
            {
                throw new InvalidOperationException("the machine has already been started");
            }

            // Connections a restore re-created go live with the vCPU, not before: until then the VM may still be discarded.
            Sockets?.ActivateRestoredConnections();

            _state = _pauseRequested ? MachineRunState.Paused : MachineRunState.Running;
            _thread = new Thread(RunVcpu) { IsBackground = true, Name = "vcpu0" };
            _thread.Start();
        }
    }

    /// <summary>Starts the machine and waits for it to end; for command-line runs and tests.</summary>
    public MachineExit Run()
    {
        Start();
        return Completion.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Completes once the vCPU is parked. Fails with <see cref="OperationCanceledException"/> when a
    /// <see cref="Resume"/> overtakes the pause before the vCPU stopped, or when the token fires (which withdraws
    /// the request) — so a caller that awaited successfully can rely on a stopped vCPU.
    /// </summary>
    public Task PauseAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_completion.Task.IsCompleted || _thread is null)
            {
                _pauseRequested = _thread is null;
                return Task.CompletedTask;
            }

            if (_state == MachineRunState.Paused && _pauseRequested)
            {
                return Task.CompletedTask;
            }

            _pauseRequested = true;
            _hart.State.StopRequested = 1;
            _wake.Set();
            var paused = _paused ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (cancellationToken.CanBeCanceled)
            {
                cancellationToken.Register(() => WithdrawPause(paused, cancellationToken));
            }

            return paused.Task;
        }
    }

    public void Resume()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            _pauseRequested = false;
            if (!_terminateRequested)
            {
                _hart.State.StopRequested = 0;
            }

            _paused?.TrySetCanceled();
            _paused = null;
            // Running from here, not from when the parked thread gets a core: a caller that resumes and at once asks
            // the state (a checkpoint loop deciding whether to pause) must not find it still Paused with no pause requested.
            if (_state == MachineRunState.Paused && !_terminateRequested)
            {
                _state = MachineRunState.Running;
            }

            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Stops the guest for good; <see cref="Completion"/> then reports <see cref="MachineExitKind.Terminated"/>. Safe at any time, also after disposal.</summary>
    public void Terminate()
    {
        lock (_gate)
        {
            if (_disposed != 0)
            {
                return;
            }

            _terminateRequested = true;
            _hart.State.StopRequested = 1;
            _wake.Set();
            Monitor.PulseAll(_gate);
            if (_thread is null)
            {
                Finish(new MachineExit(MachineExitKind.Terminated, 0, null, 0));
            }
        }
    }

    public void Dispose()
    {
        Terminate();
        lock (_gate)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }
        }

        if (_thread is not null && _thread != Thread.CurrentThread)
        {
            _thread.Join();
        }

        if (Sockets is not null)
        {
            Sockets.Changed -= WakeVcpu;
            Sockets.Dispose();
        }

        _hart.Dispose();
        _wake.Dispose();
        Memory.Dispose();
    }

    private void WithdrawPause(TaskCompletionSource paused, CancellationToken token)
    {
        lock (_gate)
        {
            if (_paused != paused || paused.Task.IsCompleted)
            {
                return;
            }

            _paused = null;
            _pauseRequested = false;
            if (!_terminateRequested && _disposed == 0)
            {
                _hart.State.StopRequested = 0;
            }

            paused.TrySetCanceled(token);
        }
    }

    private void RunVcpu()
    {
        try
        {
            while (true)
            {
                if (WaitWhilePaused())
                {
                    Finish(new MachineExit(MachineExitKind.Terminated, 0, null, _hart.State.Instret));
                    return;
                }

                _wake.Reset();
                var throttle = Volatile.Read(ref _throttle);
                var ranFrom = Stopwatch.GetTimestamp();
                var stop = throttle > 0 ? RunSlice() : _hart.Run(_options.MaxInstructions);
                switch (stop.Kind)
                {
                    case HartStopKind.Stopped when _hart.State.Instret >= _options.MaxInstructions:
                        Finish(new MachineExit(MachineExitKind.InstructionLimit, 0, null, _hart.State.Instret));
                        return;
                    case HartStopKind.Stopped:
                        EndThrottleKick();
                        _ = HoldForThrottle(throttle, ranFrom);
                        continue;
                    case HartStopKind.Blocked:
                        // A hold resets the wake event: a pause or socket event it swallowed must not be waited for
                        // again, so after a hold the hypercall looks afresh instead.
                        if (!HoldForThrottle(throttle, ranFrom))
                        {
                            _wake.Wait(Clock.Until(stop.Value));
                        }

                        continue;
                    case HartStopKind.Exited:
                        Finish(new MachineExit(MachineExitKind.Exited, stop.Value, null, _hart.State.Instret));
                        return;
                    default:
                        Finish(new MachineExit(MachineExitKind.Faulted, 0, stop.Message, _hart.State.Instret));
                        return;
                }
            }
        }
#pragma warning disable CA1031 // The vCPU thread must report every failure through Completion rather than crash the host.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Finish(new MachineExit(MachineExitKind.Faulted, 0, $"internal error at pc 0x{_hart.State.Pc:x}: {e.GetType().Name}: {e.Message}", _hart.State.Instret));
        }
    }

    /// <summary>One bounded run of about <see cref="ThrottleSliceTicks"/>; the slice length adapts to the guest's speed.</summary>
    private HartStop RunSlice()
    {
        var s = _hart.State;
        var from = s.Instret;
        var limit = Math.Min(_options.MaxInstructions, from > ulong.MaxValue - _sliceInstructions ? ulong.MaxValue : from + _sliceInstructions);
        var started = Stopwatch.GetTimestamp();
        var stop = _hart.Run(limit);
        var ticks = Stopwatch.GetTimestamp() - started;
        if (stop.Kind == HartStopKind.Stopped && s.Instret >= limit && ticks > 0)
        {
            var scaled = (double)_sliceInstructions * ThrottleSliceTicks / ticks;
            _sliceInstructions = (ulong)Math.Clamp(scaled, MinSliceInstructions, MaxSliceInstructions);
        }

        return stop;
    }

    /// <summary>
    /// Holds the vCPU for its throttle share of the time it just ran. The debt is paid in waits of at least a
    /// millisecond, since shorter timed waits are not kept; a pause, a terminate or a throttle of 0 ends the wait early.
    /// </summary>
    /// <returns>Whether it held (and so may have consumed a wake).</returns>
    private bool HoldForThrottle(double throttle, long ranFrom)
    {
        if (throttle <= 0)
        {
            _throttleDebtTicks = 0;
            return false;
        }

        var ran = Stopwatch.GetTimestamp() - ranFrom;
        _throttleDebtTicks = Math.Min(_throttleDebtTicks + (long)(ran * throttle / (1 - throttle)), Stopwatch.Frequency);
        if (_throttleDebtTicks < ThrottleSliceTicks)
        {
            return false;
        }

        var holdFrom = Stopwatch.GetTimestamp();
        var until = holdFrom + _throttleDebtTicks;
        while (true)
        {
            // Reset before the checks: a pause that sets the event after them is then not missed by the wait.
            _wake.Reset();
            var now = Stopwatch.GetTimestamp();
            if (now >= until || _hart.State.StopRequested != 0 || Volatile.Read(ref _throttle) == 0)
            {
                break;
            }

            _wake.Wait(Stopwatch.GetElapsedTime(now, until));
        }

        // A timed wait overshoots; the overshoot is credit for the next slices, or the share held would exceed the throttle.
        _throttleDebtTicks = Math.Max(-ThrottleSliceTicks, _throttleDebtTicks - (Stopwatch.GetTimestamp() - holdFrom));
        return true;
    }

    /// <summary>The vCPU left a run because a throttle was switched on: let it run again unless a pause or terminate is also pending.</summary>
    private void EndThrottleKick()
    {
        lock (_gate)
        {
            if (_throttleKick)
            {
                _throttleKick = false;
                if (!_pauseRequested && !_terminateRequested)
                {
                    _hart.State.StopRequested = 0;
                }
            }
        }
    }

    /// <summary>Host I/O changed a socket: let a blocked hypercall look again. Backend loops may still report after disposal.</summary>
    private void WakeVcpu()
    {
        try
        {
            _wake.Set();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Parks the vCPU while a pause is requested; true when the machine should end instead.</summary>
    private bool WaitWhilePaused()
    {
        lock (_gate)
        {
            while (_pauseRequested && !_terminateRequested)
            {
                _state = MachineRunState.Paused;
                _paused?.TrySetResult();
                _paused = null;
                Monitor.Wait(_gate);
            }

            if (_terminateRequested)
            {
                return true;
            }

            _state = MachineRunState.Running;
            return false;
        }
    }

    private void Finish(MachineExit exit)
    {
        lock (_gate)
        {
            _state = exit.Kind is MachineExitKind.Faulted ? MachineRunState.Faulted : MachineRunState.Exited;
            _paused?.TrySetResult();
            _paused = null;
        }

        _completion.TrySetResult(exit);
    }

    /// <summary>
    /// Copies the segments into RAM and lays out main's arguments at the top of RAM: the strings, then the
    /// argv array below them; a0 = argc, a1 = argv, a2 = the lowest byte of the block (the guest's heap limit).
    /// </summary>
    private void LoadImage(ElfImage image)
    {
        foreach (var segment in image.Segments)
        {
            Memory.Write(segment.Address, segment.Data);
        }

        var argv = new List<string> { image.Name };
        argv.AddRange(_options.Arguments);
        var strings = argv.Select(a => Encoding.UTF8.GetBytes(a + "\0")).ToList();
        var total = strings.Sum(s => s.Length) + ((argv.Count + 1) * 8) + 16;
        if (total > MaxArgumentBytes)
        {
            throw new ArgumentException($"guest arguments take {total} bytes; the limit is {MaxArgumentBytes}");
        }

        var cursor = Memory.End;
        var pointers = new ulong[argv.Count + 1];
        for (var i = 0; i < strings.Count; i++)
        {
            cursor -= (ulong)strings[i].Length;
            Memory.Write(cursor, strings[i]);
            pointers[i] = cursor;
        }

        cursor = (cursor - ((ulong)pointers.Length * 8)) & ~15UL;
        var argvAddress = cursor;
        for (var i = 0; i < pointers.Length; i++)
        {
            Memory.WriteUInt64(argvAddress + ((ulong)i * 8), pointers[i]);
        }

        foreach (var segment in image.Segments)
        {
            if (segment.Address + segment.MemorySize > argvAddress)
            {
                throw new ArgumentException($"the guest image reaches 0x{segment.Address + segment.MemorySize:x}, into the argument block at 0x{argvAddress:x}: give the machine more memory");
            }
        }

        var s = _hart.State;
        s.Pc = image.Entry;
        s[RegisterA0] = (ulong)argv.Count;
        s[RegisterA0 + 1] = argvAddress;
        s[RegisterA0 + 2] = argvAddress;
        _hart.InvalidateDecodedCode();
    }
}
