using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Migration.Core.Sockets;
using Migration.Machine.RiscV;
using Migration.Machine.RiscV.Hypercalls;
using Migration.Machine.RiscV.Loader;
using Migration.Machine.Tests.Cpu;
using Migration.Networking.Plain;
using static Migration.Machine.Tests.Cpu.Asm;

namespace Migration.Machine.Tests.Sockets;

/// <summary>A hypercall argument: a constant, or a register holding an earlier result (such as a handle).</summary>
internal readonly record struct Arg(long Constant, int Register)
{
    public static implicit operator Arg(long constant) => FromInt64(constant);

    public static Arg FromInt64(long constant) => new(constant, -1);

    public static Arg InRegister(int register) => new(0, register);
}

/// <summary>
/// A straight-line guest program of socket hypercalls: each call's a0 is stored to its own result slot in RAM, so the
/// test reads every result after the run (S0 holds the slot base and is never touched otherwise).
/// </summary>
internal sealed class SocketProgram
{
    private int _slots;

    public SocketProgram()
    {
        Code.Li(S0, (long)SocketMachine.Results);
    }

    public CodeBuilder Code { get; } = new();

    /// <summary>Address of the most recently emitted ecall, where a blocked call leaves pc.</summary>
    public ulong LastEcall { get; private set; }

    /// <summary>Emits the call and returns the slot its result lands in.</summary>
    public int Call(HypercallNumber number, params Arg[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].Register >= 0)
            {
                Code.Emit(Mv(A0 + i, args[i].Register));
            }
            else
            {
                Code.Li(A0 + i, args[i].Constant);
            }
        }

        Code.Li(A7, (long)number);
        LastEcall = Code.Pc;
        var slot = _slots++;
        Code.Emit(Ecall(), Sd(A0, S0, slot * 8));
        return slot;
    }

    /// <summary>Keeps the last result in a register for later calls.</summary>
    public SocketProgram Keep(int register)
    {
        Code.Emit(Mv(register, A0));
        return this;
    }

    public uint[] Build() => Code.Exit(0).Build();
}

/// <summary>A 1 MiB machine whose socket hypercalls are backed by real host sockets (the plain backend).</summary>
internal sealed class SocketMachine : IDisposable
{
    /// <summary>Guest addresses the tests use: addresses and small structures, bulk buffers, and the result slots.</summary>
    public const ulong Structures = TestMachine.RamBase + 0x1_0000;
    public const ulong Buffers = TestMachine.RamBase + 0x2_0000;
    public const ulong Results = TestMachine.RamBase + 0x8_0000;

    public const long EFault = -SocketErrno.EFAULT;

    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);

    private SocketMachine(RiscVMachine machine) => Machine = machine;

    public RiscVMachine Machine { get; }

    public VirtualSocketStack Sockets => Machine.Sockets!;

    public static SocketMachine Create(SocketProgram program, params ElfSegment[] data)
    {
        var options = new MachineOptions
        {
            MemorySize = TestMachine.MemorySize,
            MaxInstructions = 1_000_000,
            Network = new PlainHostNetwork(),
        };
        return new SocketMachine(RiscVMachine.Create(TestMachine.Image(program.Build(), data: data), options));
    }

    /// <summary>A Linux sockaddr_in: family, big-endian port, address, zero padding.</summary>
    public static byte[] SockaddrIn(IPAddress address, int port, ushort family = 2)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, family);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)port);
        address.GetAddressBytes().CopyTo(bytes, 4);
        return bytes;
    }

    public static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    public long Result(int slot) => (long)Machine.Memory.ReadUInt64(Results + ((ulong)slot * 8));

    public byte[] ReadMemory(ulong address, int length)
    {
        var bytes = new byte[length];
        Machine.Memory.Read(address, bytes);
        return bytes;
    }

    public async Task RunToExit()
    {
        Machine.Start();
        await Completion();
    }

    public async Task Completion()
    {
        var exit = await Machine.Completion.WaitAsync(WaitLimit);
        Assert.True(exit.Kind == MachineExitKind.Exited && exit.GuestExitCode == 0, $"expected exit 0, got {exit}");
    }

    /// <summary>A host-side listener on 127.0.0.1 (the guest sees it as handle 0 when created first) and where to connect.</summary>
    public (int Handle, IPEndPoint Endpoint) Listen(bool blocking)
    {
        var handle = (int)Sockets.Socket(VirtualAddressFamily.IPv4, VirtualSocketType.Stream, null, blocking).Value;
        Assert.True(handle >= 0);
        Assert.Equal(0, Sockets.Bind(handle, new GuestEndpoint([127, 0, 0, 1], 0)).Value);
        Assert.Equal(0, Sockets.Listen(handle, 8).Value);
        lock (Sockets.SyncRoot)
        {
            return (handle, new IPEndPoint(IPAddress.Loopback, Sockets.Find(handle)!.LocalAddress!.Port));
        }
    }

    public static async Task<TcpClient> ConnectClient(IPEndPoint endpoint)
    {
        var client = new TcpClient(AddressFamily.InterNetwork);
        try
        {
            using var timeout = new CancellationTokenSource(WaitLimit);
            await client.ConnectAsync(endpoint, timeout.Token);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Waits for a condition on a socket, re-checked whenever host I/O changes the stack.</summary>
    public async Task WaitUntil(int handle, Func<VirtualSocket, bool> condition, string what)
    {
        var current = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged() => Volatile.Read(ref current).TrySetResult();
        bool Check()
        {
            lock (Sockets.SyncRoot)
            {
                return Sockets.Find(handle) is { } socket && condition(socket);
            }
        }

        Sockets.Changed += OnChanged;
        try
        {
            using var timeout = new CancellationTokenSource(WaitLimit);
            while (true)
            {
                var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref current, waiter);
                if (Check())
                {
                    return;
                }

                try
                {
                    await waiter.Task.WaitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    if (Check())
                    {
                        return;
                    }

                    throw new TimeoutException($"timed out waiting until socket {handle}: {what}");
                }
            }
        }
        finally
        {
            Sockets.Changed -= OnChanged;
        }
    }

    /// <summary>A listener, a real client, and the accepted connection (handle 1), all set up before the guest runs.</summary>
    public async Task<TcpClient> Connection()
    {
        var (listener, endpoint) = Listen(blocking: false);
        var client = await ConnectClient(endpoint);
        await WaitUntil(listener, s => s.ConnectionQueue.Count == 1, "a connection is queued");
        Assert.Equal(1, Sockets.Accept(listener, false, out _).Value);
        return client;
    }

    public void Dispose() => Machine.Dispose();
}
