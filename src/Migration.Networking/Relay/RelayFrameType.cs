namespace Migration.Networking.Relay;

/// <summary>Frame types of the relay link; the byte layout of each payload is in <see cref="RelayProtocol"/>.</summary>
public enum RelayFrameType : byte
{
    /// <summary>Host to relay, once after authentication: the VM identity (UTF-8) whose listeners and streams this link serves.</summary>
    Hello = 1,

    /// <summary>Relay to host: the identity is accepted.</summary>
    Welcome = 2,

    /// <summary>Host to relay, stream = request number: bind a public port for the guest (or take over the VM's own). Endpoint (UTF-8).</summary>
    Bind = 3,

    /// <summary>Relay to host, stream = request number: errno (int32), listener (uint32), takeover (byte), endpoint bound (UTF-8).</summary>
    Bound = 4,

    /// <summary>Host to relay, stream = listener: the guest closed it (or connects from it instead); the port is let go.</summary>
    Release = 5,

    /// <summary>Relay to host: a client connected. Listener (uint32), local endpoint (uint16 length + UTF-8), client endpoint (UTF-8).</summary>
    Open = 6,

    /// <summary>Host to relay: the guest's connection queue took the stream; client bytes may flow.</summary>
    Accepted = 7,

    /// <summary>Host to relay: the listener is gone; reset the client.</summary>
    Refused = 8,

    /// <summary>Bytes of the stream, in order.</summary>
    Data = 9,

    /// <summary>The absolute count (uint64) of the other side's bytes this side has taken for good.</summary>
    Ack = 10,

    /// <summary>The sender's direction ends after the data already sent (a FIN).</summary>
    Eof = 11,

    /// <summary>Host to relay: the guest closed the connection; after the data already sent, close the client.</summary>
    Close = 12,

    /// <summary>The connection is reset.</summary>
    Reset = 13,

    /// <summary>Host to relay: carry this stream from now on. Client bytes the guest already has (uint64).</summary>
    Attach = 14,

    /// <summary>Relay to host: attached. Guest bytes the relay already has (uint64); the relay resends its part next.</summary>
    Attached = 15,

    /// <summary>Relay to host: the stream is not known (its client left, or the relay restarted).</summary>
    AttachFailed = 16,

    /// <summary>Host to relay: listeners this link took over start offering clients; the VM runs here now.</summary>
    Activate = 17,

    /// <summary>Host to relay: detach these streams (uint32 each) and park this link's listeners; the VM is paused for a migration.</summary>
    Freeze = 18,

    /// <summary>Relay to host: every frame before the Freeze is handled; nothing more comes for those streams.</summary>
    Frozen = 19,

    /// <summary>Host to relay, stream = request number: start listening on a bound port. Listener (uint32), backlog (int32).</summary>
    Listen = 20,

    /// <summary>Relay to host, stream = request number: errno (int32).</summary>
    Listening = 21,
}
