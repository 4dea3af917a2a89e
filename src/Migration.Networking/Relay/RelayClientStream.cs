using System.Net.Sockets;
using Migration.Core.Sockets;
using Migration.Networking.Plain;

namespace Migration.Networking.Relay;

/// <summary>
/// The relay's side of one client connection. It outlives the host that carries it: client bytes stay here until a host
/// acknowledges them, and host bytes are counted, so a host that attaches later gets exactly what it lacks. Fields are
/// guarded by the session's lock; socket I/O happens outside it.
/// </summary>
internal sealed class RelayClientStream(uint id, RelayPublicListener listener, Socket client)
{
    public uint Id { get; } = id;

    public RelayPublicListener Listener { get; } = listener;

    public Socket Client { get; } = client;

    /// <summary>The link that carries the stream now; null while no host does (a migration, a host gone).</summary>
    public RelayHostConnection? Owner
    {
        get => _owner;
        set
        {
            _owner = value;
            UnownedSince = value is null ? Environment.TickCount64 : 0;
        }
    }

    /// <summary>When the stream lost its host (milliseconds since boot); 0 while a host carries it.</summary>
    public long UnownedSince { get; private set; }

    private RelayHostConnection? _owner;

    /// <summary>The link that was sent the Open and has not answered yet.</summary>
    public RelayHostConnection? Offered { get; set; }

    /// <summary>A guest's connection queue took the stream once: from then on only an Attach gives it a new owner.</summary>
    public bool Admitted { get; set; }

    /// <summary>Client bytes no host acknowledged yet; the first has offset <see cref="Acknowledged"/>.</summary>
    public ByteQueue FromClient { get; } = new(RelayProtocol.Window);

    public long Acknowledged { get; set; }

    public long ReadTotal => Acknowledged + FromClient.Count;

    public bool ClientEof { get; set; }

    public bool ClientReset { get; set; }

    /// <summary>Host bytes not yet written to the client.</summary>
    public ByteQueue ToClient { get; } = new(RelayProtocol.Window * 4);

    /// <summary>Host bytes received in all, from any host.</summary>
    public long Received { get; set; }

    public long Written { get; set; }

    public bool HostFin { get; set; }

    public bool HostClose { get; set; }

    public bool Ended { get; set; }

    /// <summary>Set when <see cref="FromClient"/> has room again.</summary>
    public AsyncSignal Room { get; } = new();

    /// <summary>Set when there is something for the client: bytes, a FIN, a close.</summary>
    public AsyncSignal Output { get; } = new();

    public CancellationTokenSource Stop { get; } = new();

    /// <summary>Sends everything a host that has just become the owner lacks: buffered client bytes, then the client's FIN or reset.</summary>
    public void Replay(RelayHostConnection owner)
    {
        var buffered = FromClient.ToArray();
        for (var at = 0; at < buffered.Length; at += RelayProtocol.ChunkSize)
        {
            owner.Link.Send(RelayFrameType.Data, Id, buffered.AsSpan(at, Math.Min(RelayProtocol.ChunkSize, buffered.Length - at)));
        }

        if (ClientReset)
        {
            owner.Link.Send(RelayFrameType.Reset, Id);
        }
        else if (ClientEof)
        {
            owner.Link.Send(RelayFrameType.Eof, Id);
        }
    }
}
