namespace Migration.Core.Sockets;

/// <summary>
/// Result of a socket call: a value (≥ 0) or -errno, or "blocked": the socket is blocking and the call must
/// be issued again once <see cref="VirtualSocketStack.Changed"/> fires — which is what makes it restartable.
/// </summary>
public readonly record struct SocketCallResult(long Value, bool Blocked)
{
    public static SocketCallResult Ok(long value = 0) => new(value, false);

    public static SocketCallResult Error(int errno) => new(-errno, false);

    public static readonly SocketCallResult Block = new(0, true);
}
