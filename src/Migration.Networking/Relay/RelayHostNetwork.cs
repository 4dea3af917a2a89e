using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Migration.Core.Sockets;
using Migration.Core.Transfer;
using Migration.Networking.Plain;

namespace Migration.Networking.Relay;

/// <summary>
/// The relay backend (DESIGN §4), portable and unprivileged: the guest's TCP listeners are public listeners of a
/// relay, and each client connection reaches this host as a stream of one authenticated link. At a migration's
/// switch-over the streams are detached and their counters ride in the socket table (<see cref="RelayConnectionState"/>);
/// the host that runs the VM next re-attaches them and each side resends what the other lacks, so clients see a pause.
/// UDP sockets and connections the guest opens itself go through a <see cref="PlainHostNetwork"/>: they are not kept.
/// </summary>
public sealed partial class RelayHostNetwork : IHostNetwork
{
    private static readonly TimeSpan RequestLimit = TimeSpan.FromSeconds(10);

    /// <summary>How long a disposed backend lets its closed connections finish sending.</summary>
    private static readonly TimeSpan CloseLimit = TimeSpan.FromSeconds(1);

    private readonly IPEndPoint _relay;
    private readonly byte[] _secret;
    private readonly string _identity;
    private readonly PlainHostNetwork _plain = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<uint, RelayHostStream> _streams = [];
    private readonly Dictionary<uint, RelayHostListener> _listeners = [];
    private readonly Dictionary<uint, TaskCompletionSource<ReadOnlyMemory<byte>>> _requests = [];
    private TaskCompletionSource? _frozen;
    private RelayLink? _link;
    private uint _nextRequest;
    private bool _disposed;
    private VirtualSocketStack? _stack;

    /// <param name="relay">The relay's link address (<c>migration relay --listen</c>).</param>
    /// <param name="secret">Shared with the relay; at least 16 bytes.</param>
    /// <param name="vmIdentity">Names the VM on the relay; every host that runs the VM uses the same one (the VM's id).</param>
    public RelayHostNetwork(IPEndPoint relay, ReadOnlyMemory<byte> secret, string vmIdentity)
    {
        ArgumentNullException.ThrowIfNull(relay);
        ArgumentException.ThrowIfNullOrEmpty(vmIdentity);
        if (secret.Length < TransferProtocol.MinSecretLength)
        {
            throw new ArgumentException($"the relay secret must be at least {TransferProtocol.MinSecretLength} bytes; it is {secret.Length}", nameof(secret));
        }

        if (Encoding.UTF8.GetByteCount(vmIdentity) > RelayProtocol.MaxIdentityBytes)
        {
            throw new ArgumentException($"a VM identity is at most {RelayProtocol.MaxIdentityBytes} bytes", nameof(vmIdentity));
        }

        _relay = relay;
        _secret = secret.ToArray();
        _identity = vmIdentity;
    }

    public bool PreservesConnections => true;

    /// <summary>Why the last attempt to reach the relay failed, or the link ended; null while it works.</summary>
    public string? LinkError { get; private set; }

    internal VirtualSocketStack Stack => _stack ?? throw new InvalidOperationException("the backend is not attached to a socket stack");

    public void Attach(VirtualSocketStack stack)
    {
        _stack = stack;
        _plain.Attach(stack);
    }

    /// <summary>Connects and authenticates now (it otherwise happens at the first bind); throws <see cref="RelayException"/> with the reason.</summary>
    public void Connect()
    {
        lock (_gate)
        {
            if (_link is not null)
            {
                return;
            }
        }

        var link = OpenLink();
        lock (_gate)
        {
            if (_link is null && !_disposed)
            {
                _link = link;
                LinkError = null;
                _ = WatchAsync(link, link.StartReading(Handle));
                return;
            }
        }

        link.Abort();
    }

    public int Bind(VirtualSocket socket, IPEndPoint host)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(host);
        if (socket.Type != VirtualSocketType.Stream)
        {
            return _plain.Bind(socket, host);
        }

        if (!TryLink(out var errno))
        {
            return errno;
        }

        if (Request(RelayFrameType.Bind, RelayProtocol.Endpoint(host)) is not { } reply)
        {
            return SocketErrno.ETIMEDOUT;
        }

        var answer = reply.Span;
        errno = BinaryPrimitives.ReadInt32LittleEndian(answer);
        if (errno != 0)
        {
            return errno;
        }

        var bound = RelayProtocol.ParseEndpoint(answer[9..], "Bound endpoint");
        socket.Host = new RelayBinding(BinaryPrimitives.ReadUInt32LittleEndian(answer[4..]), bound, takeover: answer[8] != 0);
        socket.HostEndpoint = bound.ToString();
        return 0;
    }

    public int Listen(VirtualSocket socket, int backlog)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Host is not RelayBinding binding)
        {
            return SocketErrno.EINVAL;
        }

        var request = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(request, binding.Id);
        BinaryPrimitives.WriteInt32LittleEndian(request.AsSpan(4), backlog);
        // Known before the request leaves: the relay may offer a client right after its answer.
        var listener = new RelayHostListener(binding.Id, socket, binding.Endpoint, active: !binding.Takeover, Admit);
        lock (_gate)
        {
            _listeners[binding.Id] = listener;
        }

        var reply = Request(RelayFrameType.Listen, request);
        var errno = reply is { } answer ? BinaryPrimitives.ReadInt32LittleEndian(answer.Span) : SocketErrno.ETIMEDOUT;
        if (errno != 0)
        {
            lock (_gate)
            {
                _listeners.Remove(binding.Id);
            }

            return errno;
        }

        socket.Host = listener;
        return 0;
    }

    public int Connect(VirtualSocket socket, IPEndPoint remote)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Host is RelayBinding binding)
        {
            // An outgoing connection from an explicitly bound socket leaves from this host, as in the plain backend.
            Release(binding);
            socket.Host = null;
            var errno = _plain.Bind(socket, new IPEndPoint(binding.Endpoint.Address, 0));
            if (errno != 0)
            {
                return errno;
            }
        }

        return _plain.Connect(socket, remote);
    }

    public void Transmit(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Host is RelayHostStream stream)
        {
            stream.Work.Schedule();
            return;
        }

        _plain.Transmit(socket);
    }

    public void ResumeReceive(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        switch (socket.Host)
        {
            case RelayHostStream stream:
                stream.Work.Schedule();
                break;
            case RelayHostListener listener:
                listener.Admitting.Schedule();
                break;
            default:
                _plain.ResumeReceive(socket);
                break;
        }
    }

    public int SendDatagram(VirtualSocket socket, IPEndPoint to, ReadOnlySpan<byte> payload) => _plain.SendDatagram(socket, to, payload);

    public void ApplyOptions(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Host is not (RelayHostStream or RelayHostListener or RelayBinding))
        {
            _plain.ApplyOptions(socket);
        }
    }

    public void Close(VirtualSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        switch (socket.Host)
        {
            case RelayBinding binding:
                Release(binding);
                socket.Host = null;
                break;
            case RelayHostListener listener:
                CloseListener(listener);
                socket.Host = null;
                break;
            case RelayHostStream stream:
                CloseStream(socket, stream);
                break;
            default:
                _plain.Close(socket);
                break;
        }
    }

    public void Dispose()
    {
        // The stack closed every socket first: what those closes queued, and their Close frames, go out before the link
        // does; a connection that still cannot finish (its client reads nothing) is reset rather than left hanging.
        List<RelayHostStream> live;
        lock (_gate)
        {
            live = [.. _streams.Values.Where(s => s.State is RelayHostStreamState.Live or RelayHostStreamState.Attaching)];
        }

        var deadline = Environment.TickCount64 + (long)CloseLimit.TotalMilliseconds;
        foreach (var stream in live)
        {
            stream.Work.IdleAsync().Wait(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)));
        }

        foreach (var stream in live.Where(s => s.State is RelayHostStreamState.Live or RelayHostStreamState.Attaching))
        {
            stream.State = RelayHostStreamState.Ended;
            Send(RelayFrameType.Reset, stream.Id);
        }

        RelayLink? link;
        lock (_gate)
        {
            _disposed = true;
            link = _link;
            _link = null;
        }

        link?.Dispose();
        _plain.Dispose();
    }

    internal void Send(RelayFrameType type, uint stream, ReadOnlySpan<byte> payload = default)
    {
        RelayLink? link;
        lock (_gate)
        {
            link = _link;
        }

        link?.Send(type, stream, payload);
    }

    internal void Forget(RelayHostStream stream)
    {
        lock (_gate)
        {
            if (_streams.TryGetValue(stream.Id, out var known) && known == stream)
            {
                _streams.Remove(stream.Id);
            }
        }
    }

    private void Release(RelayBinding binding)
    {
        if (!binding.Takeover)
        {
            Send(RelayFrameType.Release, binding.Id);
        }
    }

    private void CloseListener(RelayHostListener listener)
    {
        List<uint> refused;
        lock (_gate)
        {
            listener.Closed = true;
            _listeners.Remove(listener.Id);
            refused = [.. listener.Offers.Select(o => o.Stream)];
            listener.Offers.Clear();
        }

        // A listener taken over and not yet activated is still the VM's elsewhere (a rolled-back migration): hands off.
        if (listener.Active)
        {
            foreach (var stream in refused)
            {
                Send(RelayFrameType.Refused, stream);
            }

            Send(RelayFrameType.Release, listener.Id);
        }
    }

    private void CloseStream(VirtualSocket socket, RelayHostStream stream)
    {
        switch (stream.State)
        {
            case RelayHostStreamState.Prepared or RelayHostStreamState.Frozen:
                // Never attached here: the relay keeps the client for the host that carries the VM.
                Forget(stream);
                socket.Host = null;
                break;
            case RelayHostStreamState.Ended:
                break;
            default:
                if (socket.Reset || (socket.Options.LingerEnabled && socket.Options.LingerSeconds == 0))
                {
                    stream.State = RelayHostStreamState.Ended;
                    Forget(stream);
                    Send(RelayFrameType.Reset, stream.Id);
                    break;
                }

                // Like close(2): queued output still goes, then the client gets a FIN.
                stream.CloseRequested = true;
                stream.Work.Schedule();
                break;
        }
    }

    /// <summary>Sends a request and waits for its answer; null when none came in time. Called with the stack's lock held: the reader never takes it.</summary>
    private ReadOnlyMemory<byte>? Request(RelayFrameType type, byte[] payload)
    {
        var answer = new TaskCompletionSource<ReadOnlyMemory<byte>>(TaskCreationOptions.RunContinuationsAsynchronously);
        uint id;
        RelayLink? link;
        lock (_gate)
        {
            id = ++_nextRequest;
            _requests[id] = answer;
            link = _link;
        }

        try
        {
            if (link is null || !link.Send(type, id, payload) || !answer.Task.Wait(RequestLimit))
            {
                return null;
            }

            return answer.Task.Result;
        }
        catch (AggregateException)
        {
            return null;
        }
        finally
        {
            lock (_gate)
            {
                _requests.Remove(id);
            }
        }
    }

    private bool TryLink(out int errno)
    {
        errno = 0;
        lock (_gate)
        {
            if (_link is not null)
            {
                return true;
            }
        }

        try
        {
            Connect();
            return true;
        }
        catch (RelayException e)
        {
            LinkError = e.Message;
            errno = SocketErrno.ECONNREFUSED;
            return false;
        }
    }

    /// <summary>Connects, authenticates and introduces the VM, all on the calling thread (see <see cref="SynchronousStream"/>).</summary>
    private RelayLink OpenLink()
    {
        var socket = new Socket(_relay.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (!socket.ConnectAsync(_relay).Wait(RequestLimit))
            {
                throw new TimeoutException($"no answer within {RequestLimit.TotalSeconds:0} s");
            }
        }
        catch (Exception e) when (e is AggregateException or TimeoutException)
        {
            socket.Dispose();
            var cause = e is AggregateException { InnerException: { } inner } ? inner : e;
            throw new RelayException($"relay {_relay}: {cause.Message}", cause);
        }

        var link = new RelayLink(socket);
        try
        {
            link.Timeout = RequestLimit;
            ChannelAuthenticator.AuthenticateClientAsync(link.Handshake, _secret, RequestLimit).GetAwaiter().GetResult();
            link.Send(RelayFrameType.Hello, 0, Encoding.UTF8.GetBytes(_identity));
            var welcome = link.ReadFrame();
            if (welcome is not { Type: RelayFrameType.Welcome })
            {
                throw new RelayProtocolException($"answered the Hello for VM {_identity} with {welcome?.Type.ToString() ?? "a close"}, not Welcome");
            }

            link.Timeout = TimeSpan.Zero;
            return link;
        }
        catch (Exception e) when (e is MigrationAuthenticationException or RelayProtocolException or IOException or SocketException)
        {
            link.Abort();
            throw new RelayException($"relay {_relay}: {Describe(e)}", e);
        }
    }

    private static string Describe(Exception e) => e switch
    {
        MigrationAuthenticationException auth when auth.Message.Contains("wrong secret", StringComparison.Ordinal) => "refused this host: wrong secret",
        MigrationAuthenticationException auth => $"authentication failed: {auth.Message}",
        IOException { InnerException: SocketException { SocketErrorCode: SocketError.TimedOut } } => $"no answer within {RequestLimit.TotalSeconds:0} s",
        _ => e.Message,
    };
}
