using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Migration.Networking.Repair;

/// <summary>
/// The libc socket calls TCP repair needs, on raw descriptors. .NET's own Bind sets SO_REUSEADDR, which cancels the
/// forced address reuse of repair mode, and it has no way to reach the repair options: so these go straight to libc.
/// </summary>
internal static partial class LinuxSockets
{
    public const int AfInet = 2;
    public const int AfInet6 = 10;
    public const int SockStream = 1;
    public const int IpProtoTcp = 6;
    public const int IpProtoIp = 0;
    public const int IpFreeBind = 15;
    public const int IpTransparent = 19;
    public const int SolSocket = 1;
    public const int SoSndBuf = 7;
    public const int SoRcvBuf = 8;
    public const int SoSndBufForce = 32;
    public const int SoRcvBufForce = 33;
    public const int MsgPeek = 0x2;
    public const int MsgDontWait = 0x40;
    public const int ShutWr = 1;

    public const int TcpMaxSeg = 2;
    public const int TcpInfo = 11;
    public const int TcpRepair = 19;
    public const int TcpRepairQueue = 20;
    public const int TcpQueueSeq = 21;
    public const int TcpRepairOptions = 22;
    public const int TcpTimestamp = 24;
    public const int TcpRepairWindow = 29;

    public const int NoQueue = 0;
    public const int ReceiveQueue = 1;
    public const int SendQueue = 2;

    public const uint SiocInq = 0x541B;
    public const uint SiocOutq = 0x5411;
    public const uint SiocOutqNsd = 0x894B;

    public const int Eperm = 1;
    public const int Enomem = 12;

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static unsafe partial int SetSockOpt(int fd, int level, int name, void* value, uint length);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static unsafe partial int GetSockOpt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int Ioctl(int fd, nuint request, int* value);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static unsafe partial int BindNative(int fd, byte* address, uint length);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static unsafe partial int ConnectNative(int fd, byte* address, uint length);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static unsafe partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static unsafe partial nint SendNative(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    public static unsafe int SetInt(int fd, int level, int name, int value) => SetSockOpt(fd, level, name, &value, sizeof(int));

    public static unsafe int SetBytes(int fd, int level, int name, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value)
        {
            return SetSockOpt(fd, level, name, p, (uint)value.Length);
        }
    }

    public static unsafe int GetInt(int fd, int level, int name, out int value)
    {
        int v = 0;
        uint length = sizeof(int);
        var result = GetSockOpt(fd, level, name, &v, &length);
        value = v;
        return result;
    }

    /// <returns>The number of bytes the kernel filled, or -1.</returns>
    public static unsafe int GetBytes(int fd, int level, int name, Span<byte> value)
    {
        fixed (byte* p = value)
        {
            var length = (uint)value.Length;
            return GetSockOpt(fd, level, name, p, &length) == 0 ? (int)length : -1;
        }
    }

    public static unsafe int IoctlInt(int fd, uint request, out int value)
    {
        int v = 0;
        var result = Ioctl(fd, request, &v);
        value = v;
        return result;
    }

    public static unsafe int Bind(int fd, IPEndPoint endpoint)
    {
        Span<byte> address = stackalloc byte[28];
        var length = Encode(endpoint, address);
        fixed (byte* p = address)
        {
            return BindNative(fd, p, (uint)length);
        }
    }

    public static unsafe int Connect(int fd, IPEndPoint endpoint)
    {
        Span<byte> address = stackalloc byte[28];
        var length = Encode(endpoint, address);
        fixed (byte* p = address)
        {
            return ConnectNative(fd, p, (uint)length);
        }
    }

    public static unsafe nint Receive(int fd, Span<byte> buffer, int flags)
    {
        fixed (byte* p = buffer)
        {
            return Recv(fd, p, (nuint)buffer.Length, flags);
        }
    }

    public static unsafe nint Send(int fd, ReadOnlySpan<byte> buffer, int flags)
    {
        fixed (byte* p = buffer)
        {
            return SendNative(fd, p, (nuint)buffer.Length, flags);
        }
    }

    public static int Family(IPEndPoint endpoint) => endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? AfInet6 : AfInet;

    /// <summary>Linux's sockaddr_in / sockaddr_in6 layout.</summary>
    private static int Encode(IPEndPoint endpoint, Span<byte> address)
    {
        address.Clear();
        if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(address, AfInet6);
            BinaryPrimitives.WriteUInt16BigEndian(address[2..], (ushort)endpoint.Port);
            endpoint.Address.TryWriteBytes(address[8..24], out _);
            BinaryPrimitives.WriteUInt32LittleEndian(address[24..], (uint)endpoint.Address.ScopeId);
            return 28;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(address, AfInet);
        BinaryPrimitives.WriteUInt16BigEndian(address[2..], (ushort)endpoint.Port);
        endpoint.Address.TryWriteBytes(address[4..8], out _);
        return 16;
    }
}
