using System.Net.Sockets;
using Migration.Core.Sockets;

namespace Migration.Networking.Plain;

/// <summary>Translates host socket errors to the Linux errno the guest expects.</summary>
internal static class SocketErrorMapping
{
    private const int EIO = 5;
    private const int EACCES = 13;

    public static int ToErrno(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => SocketErrno.EADDRINUSE,
        SocketError.AddressNotAvailable => SocketErrno.EADDRNOTAVAIL,
        SocketError.ConnectionRefused => SocketErrno.ECONNREFUSED,
        SocketError.ConnectionReset => SocketErrno.ECONNRESET,
        SocketError.ConnectionAborted => SocketErrno.ECONNABORTED,
        SocketError.NetworkUnreachable or SocketError.NetworkDown => SocketErrno.ENETUNREACH,
        SocketError.HostUnreachable or SocketError.HostDown => SocketErrno.EHOSTUNREACH,
        SocketError.TimedOut => SocketErrno.ETIMEDOUT,
        SocketError.Shutdown => SocketErrno.EPIPE,
        SocketError.MessageSize => SocketErrno.EMSGSIZE,
        SocketError.AddressFamilyNotSupported => SocketErrno.EAFNOSUPPORT,
        SocketError.AccessDenied => EACCES,
        SocketError.NotConnected => SocketErrno.ENOTCONN,
        SocketError.IsConnected => SocketErrno.EISCONN,
        SocketError.InvalidArgument => SocketErrno.EINVAL,
        _ => EIO,
    };
}
