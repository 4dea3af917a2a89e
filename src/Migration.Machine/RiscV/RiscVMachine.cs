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
public sealed class RiscVMachine : IVirtualMachine
{
    public const string MachineKind = "riscv64im";

    /// <summary>Bound on the argument block the host writes at the top of RAM.</summary>
    public const int MaxArgumentBytes = 64 * 1024;

    private const int RegisterA0 = 10;

    private readonly Hart _hart;
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

    private RiscVMachine(ElfImage image, MachineOptions options)
    {
        _options = options;
        Memory = new GuestMemory(options.MemorySize, GuestMemory.DefaultBase, options.MemoryBacking);
        try
        {
            SocketHypercalls? socketCalls = null;
            if (options.Network is not null)
            {
                Sockets = new VirtualSocketStack(options.Network, options.Ports, options.MaxSockets);
                Sockets.Changed += WakeVcpu;
                socketCalls = new SocketHypercalls(Memory, Clock, Sockets);
            }

            var hypercalls = new HypercallDispatcher(Memory, Clock, options.Console, socketCalls);
            _hart = new Hart(Memory, hypercalls, image.ToHostAddress);
            LoadImage(image);
        }
        catch
        {
            Sockets?.Dispose();
            _hart?.Dispose();
            Memory.Dispose();
            throw;
        }
    }

    public string Kind => MachineKind;

    public GuestMemory Memory { get; }

    public GuestClock Clock { get; } = new();

    /// <summary>The guest's sockets; null when the machine has no network.</summary>
    public VirtualSocketStack? Sockets { get; }

    public MachineRunState State => _state;

    public Task<MachineExit> Completion => _completion.Task;

    public ulong Pc => _hart.State.Pc;

    public ulong InstructionsRetired => _hart.State.Instret;

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
        return new RiscVMachine(image, options);
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
                var stop = _hart.Run(_options.MaxInstructions);
                switch (stop.Kind)
                {
                    case HartStopKind.Stopped when _hart.State.Instret >= _options.MaxInstructions:
                        Finish(new MachineExit(MachineExitKind.InstructionLimit, 0, null, _hart.State.Instret));
                        return;
                    case HartStopKind.Stopped:
                        continue;
                    case HartStopKind.Blocked:
                        _wake.Wait(Clock.Until(stop.Value));
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
