using Migration.Core.Sockets;

namespace Migration.Networking.Repair;

/// <param name="State">The connection as it was frozen.</param>
/// <param name="KernelAccepted">Bytes the kernel took from the host over the socket's life (acknowledged + still queued): tells how much of an interrupted send reached it.</param>
internal readonly record struct TcpFreezeResult(TcpConnectionState State, long KernelAccepted);
