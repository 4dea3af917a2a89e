namespace Migration.Core.Sockets;

/// <summary>
/// Where a virtual socket is in its life. Transitions (anything else is refused with an errno):
/// <code>
/// Unconnected ──bind──▶ Bound ──listen──▶ Listening ──close──▶ Terminated
/// Unconnected/Bound ──connect──▶ Connecting ──host connect completes──▶ Connected
///                                Connecting ──refused/unreachable──▶ Disconnected (SO_ERROR set)
/// Unconnected/Bound (datagram) ──sendto/bind──▶ Bound (datagrams flow in both directions)
/// accept on Listening ──▶ a new socket, Connected
/// Connected ──guest send, bytes still queued──▶ Sending ──queue drained──▶ Connected
/// Connected ──bytes arrived, not yet read──▶ Receiving ──guest read them all──▶ Connected
/// Connected/Sending/Receiving ──shutdown(how)──▶ Shutdown (one or both directions closed by the guest)
/// Connected/Sending/Receiving/Shutdown ──peer reset or host error──▶ Disconnected (reads give ECONNRESET once, then 0)
/// Shutdown (write side) ──peer closes too──▶ Disconnected
/// (a peer that only closes its sending side leaves the socket Connected with PeerClosed set: reads return 0
///  once the queue is empty, and the guest may still send — a half-closed connection)
/// any ──close──▶ Terminated (the handle is free for reuse; Terminated records are not kept)
/// </code>
/// Sending and Receiving are Connected with a non-empty queue; a socket with both queues non-empty
/// reports Sending, since unsent output is what a migration must carry first.
/// </summary>
public enum SocketStatus
{
    Unconnected = 0,
    Bound = 1,
    Listening = 2,
    Connecting = 3,
    Connected = 4,
    Sending = 5,
    Receiving = 6,
    Disconnected = 7,
    Shutdown = 8,
    Terminated = 9,
}
