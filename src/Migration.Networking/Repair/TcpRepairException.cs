using System.Runtime.InteropServices;

namespace Migration.Networking.Repair;

/// <summary>A TCP repair step failed; the message names the step, the connection and the errno.</summary>
public sealed class TcpRepairException : Exception
{
    public TcpRepairException(string message)
        : base(message)
    {
    }

    public TcpRepairException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public TcpRepairException()
    {
    }

    public int Errno { get; private init; }

    internal static TcpRepairException FromErrno(string step, string connection)
    {
        var errno = Marshal.GetLastPInvokeError();
        var hint = errno == LinuxSockets.Eperm ? " (TCP repair needs CAP_NET_ADMIN)" : "";
        return new TcpRepairException($"TCP repair of {connection}: {step} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}){hint}") { Errno = errno };
    }
}
