using System.Net;
using System.Net.Sockets;

namespace Migration.Networking.Relay;

/// <summary>
/// A client-facing listener the relay holds for a VM's listening socket. It stays open while the VM migrates: clients
/// that connect meanwhile wait here, and are offered to the host that activates the VM next.
/// </summary>
internal sealed class RelayPublicListener(uint id, Socket socket)
{
    public uint Id { get; } = id;

    public Socket Socket { get; } = socket;

    public IPEndPoint Endpoint { get; } = (IPEndPoint)socket.LocalEndPoint!;

    /// <summary>The link whose guest listens here; null while none does.</summary>
    public RelayHostConnection? Owner
    {
        get => _owner;
        set
        {
            _owner = value;
            UnownedSince = value is null ? Environment.TickCount64 : 0;
        }
    }

    /// <summary>When the listener lost its host (milliseconds since boot); 0 while a host has it.</summary>
    public long UnownedSince { get; private set; }

    private RelayHostConnection? _owner;

    /// <summary>Whether new clients are offered to <see cref="Owner"/>; false between a takeover and the new host's activation.</summary>
    public bool Active { get; set; }

    /// <summary>Bound only until the guest listens: clients are refused by the system meanwhile, as on a host.</summary>
    public bool Listening { get; set; }

    public CancellationTokenSource Stop { get; } = new();
}
