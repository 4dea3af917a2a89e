using System.Net;

namespace Migration.Core.Sockets;

/// <summary>
/// Connection continuity (DESIGN §4): freezing the host side of every socket for a migration's switch-over, putting it
/// back here when the migration rolls back, and activating connections a restore re-created. The backend does the host
/// work; a backend that does not preserve connections makes all of this a no-op, and restores follow the plain semantics.
/// </summary>
public sealed partial class VirtualSocketStack
{
    private readonly List<VirtualSocket> _prepared = [];
    private readonly List<IPEndPoint> _toUnlock = [];

    public bool PreservesConnections => _network.PreservesConnections;

    /// <summary>
    /// For a paused machine about to be captured: freezes every listener and established connection, so that the socket
    /// table then carries each connection's kernel state. Until <see cref="Thaw"/> or disposal, no host socket carries them.
    /// </summary>
    /// <returns>How many sockets were frozen (connections taken from host accept queues included).</returns>
    public async Task<int> FreezeAsync(CancellationToken cancellationToken = default)
    {
        if (!_network.PreservesConnections)
        {
            return 0;
        }

        List<VirtualSocket> sockets;
        lock (SyncRoot)
        {
            sockets = [.. _sockets.Values.SelectMany(s => s.ConnectionQueue.Prepend(s)).Where(s => s.Host is not null)];
        }

        var frozen = await _network.FreezeAsync(sockets, cancellationToken).ConfigureAwait(false);
        return frozen.Count;
    }

    /// <summary>
    /// Undoes <see cref="FreezeAsync"/> after a migration that did not happen: listeners bind their ports again (another
    /// one if it is taken meanwhile) and frozen connections are re-created here and go live.
    /// </summary>
    /// <returns>The sockets that could not be put back (their connections are reset for the guest), as one line each.</returns>
    public IReadOnlyList<string> Thaw()
    {
        var problems = new List<string>();
        lock (SyncRoot)
        {
            foreach (var socket in _sockets.Values.ToList())
            {
                if (socket.Status == SocketStatus.Listening && socket.Host is null)
                {
                    var previous = socket.HostEndpoint is { } text && IPEndPoint.TryParse(text, out var parsed) ? parsed : null;
                    try
                    {
                        Rebind(socket, previous, listen: true);
                    }
                    catch (SocketRebindException e)
                    {
                        problems.Add(e.Message);
                    }

                    if (previous is not null)
                    {
                        _toUnlock.Add(previous);
                    }
                }

                foreach (var connection in socket.ConnectionQueue.Prepend(socket).Where(s => s.IsFrozen && s.Host is null).ToList())
                {
                    if (!TryPrepare(connection))
                    {
                        problems.Add($"socket {connection.Id}: connection {connection.Connection?.Local} <-> {connection.Connection?.Remote} could not be re-created");
                        ResetAsLost(connection);
                        socket.ConnectionQueue.Remove(connection);
                    }
                }
            }

            ActivateLocked();
        }

        Changed?.Invoke();
        return problems;
    }

    /// <summary>Puts the connections a restore re-created live; the machine calls it as its vCPU starts. Idempotent.</summary>
    public void ActivateRestoredConnections()
    {
        lock (SyncRoot)
        {
            if (_prepared.Count == 0 && _toUnlock.Count == 0)
            {
                return;
            }

            ActivateLocked();
        }

        Changed?.Invoke();
    }

    private void ActivateLocked()
    {
        var prepared = _prepared.ToList();
        var unlock = _toUnlock.Concat(prepared.Where(s => s.Connection is not null).Select(s => IPEndPoint.Parse(s.Connection!.Local))).Distinct().ToList();
        _prepared.Clear();
        _toUnlock.Clear();
        _network.ActivateConnections(prepared, unlock);
        foreach (var socket in prepared)
        {
            socket.Connection = null;
            socket.RelayConnection = null;
            socket.Events = socket.ComputeEvents();
        }
    }

    /// <summary>Re-creates a frozen connection through the backend; false when there is nothing to re-create or it failed.</summary>
    private bool TryPrepare(VirtualSocket socket)
    {
        if (!socket.IsFrozen || !_network.PreservesConnections)
        {
            return false;
        }

        socket.Host = null;
        if (_network.PrepareConnection(socket) != 0)
        {
            return false;
        }

        _prepared.Add(socket);
        return true;
    }

    private static void ResetAsLost(VirtualSocket socket)
    {
        socket.Connection = null;
        socket.RelayConnection = null;
        socket.Reset = true;
        socket.PendingError = SocketErrno.ECONNRESET;
        socket.SendQueue.Clear();
        socket.Status = SocketStatus.Disconnected;
        socket.Events = socket.ComputeEvents();
    }
}
