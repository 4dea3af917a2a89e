using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Migration.Core.Transfer;

namespace Migration.Networking.Relay;

/// <summary>
/// The always-on relay (DESIGN §4, relay backend): hosts connect to it over authenticated links, register their VMs'
/// listeners, and it opens those on its side and carries every client connection to whichever host runs the VM as a
/// stream of the link. A host that takes a VM over re-attaches its streams; clients see a pause, never a reset.
/// </summary>
public sealed class RelayServer : IAsyncDisposable
{
    private static readonly TimeSpan HandshakeLimit = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly byte[] _secret;
    private readonly Action<string> _log;
    private readonly ConcurrentDictionary<string, RelaySession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<RelayLink, byte> _links = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _accepting;
    private int _nextId;

    private RelayServer(Socket socket, ReadOnlyMemory<byte> secret, Action<string>? log)
    {
        _socket = socket;
        _secret = secret.ToArray();
        _log = log ?? (_ => { });
        Endpoint = (IPEndPoint)socket.LocalEndPoint!;
        _accepting = new Thread(Accept) { IsBackground = true, Name = $"relay accept {Endpoint}" };
        _accepting.Start();
    }

    /// <summary>Where hosts connect (port 0 at start becomes the port the system picked).</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>Starts listening for host links; a secret shorter than 16 bytes or a taken address fails here.</summary>
    public static RelayServer Start(IPEndPoint listen, ReadOnlyMemory<byte> secret, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(listen);
        if (secret.Length < TransferProtocol.MinSecretLength)
        {
            throw new ArgumentException($"the relay's secret must be at least {TransferProtocol.MinSecretLength} bytes; it is {secret.Length}", nameof(secret));
        }

        var socket = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(listen);
            socket.Listen(128);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new RelayException($"relay: cannot listen on {listen}: {e.Message}", e);
        }

        return new RelayServer(socket, secret, log);
    }

    internal uint NextId() => (uint)Interlocked.Increment(ref _nextId);

    /// <summary>A line per VM with what the relay holds for it.</summary>
    public IReadOnlyList<string> Describe() => [.. _sessions.Values.Select(s => s.ToString())];

    /// <summary>
    /// Accepts host links on a thread of its own: a host opens its link while a migration's switch-over waits for it,
    /// so the accept must not queue behind a busy thread pool.
    /// </summary>
    private void Accept()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = _socket.Accept();
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (!_stop.IsCancellationRequested)
            {
                // A host that reset while queued, or no descriptors left: the listener itself goes on.
                continue;
            }
            catch (SocketException)
            {
                return;
            }

            var serving = new Thread(() => Serve(socket)) { IsBackground = true, Name = $"relay link {socket.RemoteEndPoint}" };
            serving.Start();
        }
    }

    /// <summary>One host link, on a thread of its own from the handshake on (see <see cref="SynchronousStream"/>).</summary>
    private void Serve(Socket socket)
    {
        var link = new RelayLink(socket);
        _links.TryAdd(link, 0);
        RelayHostConnection? host = null;
        try
        {
            link.Timeout = HandshakeLimit;
            try
            {
                ChannelAuthenticator.AuthenticateServerAsync(link.Handshake, _secret, HandshakeLimit).GetAwaiter().GetResult();
            }
            catch (MigrationAuthenticationException e)
            {
                _log($"relay: link from {link.Peer} refused: {e.Message}");
                return;
            }

            var first = link.ReadFrame();
            if (first is not { Type: RelayFrameType.Hello } frame || frame.Payload.Length is 0 or > RelayProtocol.MaxIdentityBytes)
            {
                _log($"relay: link from {link.Peer} did not begin with a Hello naming its VM");
                return;
            }

            link.Timeout = TimeSpan.Zero;
            var identity = Encoding.UTF8.GetString(frame.Payload.Span);
            var session = _sessions.GetOrAdd(identity, name => new RelaySession(name, this));
            host = new RelayHostConnection(link, session);
            link.Send(RelayFrameType.Welcome, 0);
            _log($"relay: {host} attached");
            if (link.ReadAll(f => session.Handle(host, f)) is RelayProtocolException protocol)
            {
                _log($"relay: {host} dropped: {protocol.Message}");
            }
        }
        catch (Exception e) when (e is RelayProtocolException or IOException or SocketException or ObjectDisposedException)
        {
            _log($"relay: link from {link.Peer} failed: {e.Message}");
        }
        finally
        {
            host?.Session.Detach(host);
            _links.TryRemove(link, out _);
            link.Abort();
            if (host is not null)
            {
                _log($"relay: {host} detached");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        _accepting.Join(TimeSpan.FromSeconds(5));
        foreach (var link in _links.Keys)
        {
            link.Abort();
        }

        foreach (var session in _sessions.Values)
        {
            session.CloseAll();
        }

        _stop.Dispose();
    }
}
