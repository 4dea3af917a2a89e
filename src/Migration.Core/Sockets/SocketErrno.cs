namespace Migration.Core.Sockets;

/// <summary>Linux errno values the socket layer reports; the guest ABI passes them through negated.</summary>
public static class SocketErrno
{
    public const int EPIPE = 32;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EFAULT = 14;
    public const int EINVAL = 22;
    public const int EMFILE = 24;
    public const int ENOTSOCK = 88;
    public const int EDESTADDRREQ = 89;
    public const int EMSGSIZE = 90;
    public const int ENOPROTOOPT = 92;
    public const int EPROTONOSUPPORT = 93;
    public const int EOPNOTSUPP = 95;
    public const int EAFNOSUPPORT = 97;
    public const int EADDRINUSE = 98;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETUNREACH = 101;
    public const int ECONNABORTED = 103;
    public const int ECONNRESET = 104;
    public const int EISCONN = 106;
    public const int ENOTCONN = 107;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;
    public const int EHOSTUNREACH = 113;
    public const int EALREADY = 114;
    public const int EINPROGRESS = 115;
}
