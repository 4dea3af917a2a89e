namespace Migration.Machine.RiscV.Hypercalls;

/// <summary>Linux errno values of the non-socket hypercalls, returned negated in a0; socket calls use SocketErrno.</summary>
public static class Errno
{
    public const long EFAULT = 14;
    public const long ENOSYS = 38;
}
