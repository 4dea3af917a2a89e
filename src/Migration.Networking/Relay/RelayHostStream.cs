using Migration.Core.Sockets;

namespace Migration.Networking.Relay;

/// <summary>
/// A host's side of one relay stream: a guest connection's bytes move between its queues and the link here. Guest
/// bytes stay in the socket's send queue until the relay confirms them, so the queue itself is what a new host
/// resends; client bytes are acknowledged once they are in the receive queue. All stack calls happen in
/// <see cref="Service"/>, which runs on the thread pool one run at a time, never on the link's reader.
/// </summary>
internal sealed class RelayHostStream
{
    private readonly RelayHostNetwork _network;
    private readonly ByteQueue _inbound = new(RelayProtocol.Window);
    private readonly byte[] _buffer = new byte[RelayProtocol.ChunkSize];
    private long _acknowledgedByRelay;
    private long? _attachedAt;
    private bool _eof;
    private bool _reset;
    private bool _peerClosedReported;
    private bool _finSent;

    public RelayHostStream(RelayHostNetwork network, uint id, VirtualSocket socket, RelayHostStreamState state)
    {
        _network = network;
        Id = id;
        Socket = socket;
        State = state;
        Work = new SerialWork(Service);
    }

    public uint Id { get; }

    public VirtualSocket Socket { get; }

    public RelayHostStreamState State { get; set; }

    public SerialWork Work { get; }

    /// <summary>Client bytes put into the guest's receive queue (absolute).</summary>
    public long Delivered { get; set; }

    /// <summary>Offset of the first byte of the guest's send queue: guest bytes before it the relay confirmed.</summary>
    public long Front { get; set; }

    /// <summary>Offset after the last guest byte sent on the link.</summary>
    public long Sent { get; set; }

    /// <summary>The guest closed the socket: send what is queued, then Close.</summary>
    public bool CloseRequested { get; set; }

    /// <summary>Stops every further stack call; set before the counters are read for a freeze.</summary>
    public bool Frozen
    {
        get => Volatile.Read(ref _frozen);
        set => Volatile.Write(ref _frozen, value);
    }

    private bool _frozen;

    // The methods below are called by the link's reader; they only record and schedule.
    public void OnData(ReadOnlySpan<byte> data)
    {
        lock (_inbound)
        {
            if (_inbound.Enqueue(data) != data.Length)
            {
                throw new RelayProtocolException($"stream {Id} overran its window of {RelayProtocol.Window} bytes");
            }
        }

        Work.Schedule();
    }

    public void OnAck(long acknowledged)
    {
        long current;
        while ((current = Volatile.Read(ref _acknowledgedByRelay)) < acknowledged
            && Interlocked.CompareExchange(ref _acknowledgedByRelay, acknowledged, current) != current)
        {
        }

        Work.Schedule();
    }

    public void OnEof()
    {
        Volatile.Write(ref _eof, true);
        Work.Schedule();
    }

    public void OnReset()
    {
        Volatile.Write(ref _reset, true);
        Work.Schedule();
    }

    public void OnAttached(long relayHas)
    {
        lock (_inbound)
        {
            _attachedAt = relayHas;
        }

        Work.Schedule();
    }

    private void Service()
    {
        if (Frozen)
        {
            return;
        }

        var stack = _network.Stack;
        if (Volatile.Read(ref _reset))
        {
            if (State != RelayHostStreamState.Ended)
            {
                State = RelayHostStreamState.Ended;
                _network.Forget(this);
                stack.OnReset(Socket, SocketErrno.ECONNRESET);
            }

            return;
        }

        long? attachedAt;
        lock (_inbound)
        {
            attachedAt = _attachedAt;
            _attachedAt = null;
        }

        if (attachedAt is { } relayHas && !Reconcile(stack, relayHas))
        {
            return;
        }

        if (State != RelayHostStreamState.Live)
        {
            return;
        }

        var acknowledged = Volatile.Read(ref _acknowledgedByRelay);
        if (acknowledged > Front)
        {
            stack.OnTransmitted(Socket, (int)(acknowledged - Front));
            Front = acknowledged;
        }

        Deliver(stack);
        Pump(stack);
    }

    /// <summary>After an attach: the guest bytes the relay already had leave the send queue, and sending resumes after them.</summary>
    private bool Reconcile(VirtualSocketStack stack, long relayHas)
    {
        int queued;
        lock (stack.SyncRoot)
        {
            queued = Socket.SendQueue.Count;
        }

        if (relayHas < Front || relayHas - Front > queued)
        {
            // The relay claims bytes this connection never had: its state is not this connection's.
            State = RelayHostStreamState.Ended;
            _network.Forget(this);
            _network.Send(RelayFrameType.Reset, Id);
            stack.OnReset(Socket, SocketErrno.ECONNRESET);
            return false;
        }

        if (relayHas > Front)
        {
            stack.OnTransmitted(Socket, (int)(relayHas - Front));
        }

        Front = Sent = relayHas;
        State = RelayHostStreamState.Live;
        return true;
    }

    private void Deliver(VirtualSocketStack stack)
    {
        var delivered = false;
        while (true)
        {
            int n;
            lock (_inbound)
            {
                var room = stack.ReceiveRoom(Socket);
                n = _inbound.Peek(_buffer.AsSpan(0, Math.Min(room, _buffer.Length)));
            }

            if (n == 0)
            {
                break;
            }

            stack.OnReceived(Socket, _buffer.AsSpan(0, n));
            lock (_inbound)
            {
                _inbound.Discard(n);
            }

            Delivered += n;
            delivered = true;
        }

        if (delivered)
        {
            _network.Send(RelayFrameType.Ack, Id, RelayProtocol.Counter(Delivered));
        }

        bool drained;
        lock (_inbound)
        {
            drained = _inbound.IsEmpty;
        }

        if (drained && Volatile.Read(ref _eof) && !_peerClosedReported)
        {
            _peerClosedReported = true;
            stack.OnPeerClosed(Socket);
        }
    }

    private void Pump(VirtualSocketStack stack)
    {
        while (true)
        {
            int n;
            bool drained;
            bool writeShut;
            lock (stack.SyncRoot)
            {
                var inFlight = (int)(Sent - Front);
                var room = Math.Min(RelayProtocol.Window - inFlight, _buffer.Length);
                n = room > 0 ? Socket.SendQueue.Peek(inFlight, _buffer.AsSpan(0, room)) : 0;
                drained = n == 0 && Socket.SendQueue.Count == inFlight;
                writeShut = Socket.WriteShut;
            }

            if (n > 0)
            {
                _network.Send(RelayFrameType.Data, Id, _buffer.AsSpan(0, n));
                Sent += n;
                continue;
            }

            if (drained && CloseRequested)
            {
                // Close is queued before the stream counts as ended: a host that is being disposed closes its link
                // once no stream is live, and a Close queued after that would never leave.
                _network.Send(RelayFrameType.Close, Id);
                State = RelayHostStreamState.Ended;
                _network.Forget(this);
            }
            else if (drained && writeShut && !_finSent)
            {
                _finSent = true;
                _network.Send(RelayFrameType.Eof, Id);
            }

            return;
        }
    }
}
