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
    private readonly Task _accepting;
    private int _nextId;

    private RelayServer(Socket socket, ReadOnlyMemory<byte> secret, Action<string>? log)
    {
        _socket = socket;
        _secret = secret.ToArray();
        _log = log ?? (_ => { });
        Endpoint = (IPEndPoint)socket.LocalEndPoint!;
        _accepting = AcceptAsync();
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

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var peer = socket.RemoteEndPoint?.ToString() ?? "?";
        var network = new NetworkStream(socket, ownsSocket: true);
        try
        {
            // On the bare stream: the link's reader buffers ahead, and nothing may be read past the handshake before it exists.
            await ChannelAuthenticator.AuthenticateServerAsync(network, _secret, HandshakeLimit, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MigrationAuthenticationException or IOException or OperationCanceledException)
        {
            _log($"relay: link from {peer} refused: {e.Message}");
            await network.DisposeAsync().ConfigureAwait(false);
            return;
        }

        var link = new RelayLink(socket, network);
        _links.TryAdd(link, 0);
        RelayHostConnection? host = null;
        try
        {

            using var hello = new CancellationTokenSource(HandshakeLimit);
            var first = await link.Reader.ReadAsync(hello.Token).ConfigureAwait(false);
            if (first is not { Type: RelayFrameType.Hello } frame || frame.Payload.Length is 0 or > RelayProtocol.MaxIdentityBytes)
            {
                _log($"relay: link from {peer} did not begin with a Hello naming its VM");
                return;
            }

            var identity = Encoding.UTF8.GetString(frame.Payload.Span);
            var session = _sessions.GetOrAdd(identity, name => new RelaySession(name, this));
            host = new RelayHostConnection(link, session);
            link.Send(RelayFrameType.Welcome, 0);
            _log($"relay: {host} attached");
            var ended = await link.ReadAllAsync(f => session.Handle(host, f)).ConfigureAwait(false);
            if (ended is RelayProtocolException protocol)
            {
                _log($"relay: {host} dropped: {protocol.Message}");
            }
        }
        catch (Exception e) when (e is RelayProtocolException or IOException or SocketException or OperationCanceledException)
        {
            _log($"relay: link from {peer} failed: {e.Message}");
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
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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
