namespace Migration.Machine.RiscV.Hypercalls;

/// <summary>Linux errno values, returned negated in a0.</summary>
public static class Errno
{
    public const long EBADF = 9;
    public const long EAGAIN = 11;
    public const long EFAULT = 14;
    public const long EINVAL = 22;
    public const long ENOSYS = 38;
}
