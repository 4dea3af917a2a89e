using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace Migration.Networking.Repair;

/// <summary>
/// Announces that an IPv4 address now lives behind this interface: one broadcast ARP request whose sender and target
/// address are both the address (RFC 5227's announcement). Neighbours that had the address cached update their entry at
/// once, even within the neighbour table's lock time, so a moved service address is reached on its new host without
/// waiting for the old entry to go stale. Sent on a raw packet socket: microseconds, where starting arping costs milliseconds.
/// </summary>
internal static partial class GratuitousArp
{
    private const int AfPacket = 17;
    private const int SockRaw = 3;
    private const ushort EtherTypeArp = 0x0806;
    private const ushort EtherTypeIPv4 = 0x0800;
    private const uint SiocGifHwAddr = 0x8927;
    private const int FrameLength = 60;

    /// <exception cref="ServiceAddressException">The interface is unknown or the frame could not be sent.</exception>
    public static void Announce(string interfaceName, IPAddress address)
    {
        var index = IfNameToIndex(interfaceName);
        if (index == 0)
        {
            throw new ServiceAddressException($"announcing {address}: no interface {interfaceName} in this network namespace");
        }

        var fd = LinuxSockets.Socket(AfPacket, SockRaw, BinaryPrimitives.ReverseEndianness(EtherTypeArp));
        if (fd < 0)
        {
            throw new ServiceAddressException($"announcing {address}: cannot open a packet socket (errno {Marshal.GetLastPInvokeError()}; needs CAP_NET_RAW)");
        }

        try
        {
            Span<byte> mac = stackalloc byte[6];
            HardwareAddress(fd, interfaceName, mac);
            Span<byte> frame = stackalloc byte[FrameLength];
            frame.Clear();
            frame[..6].Fill(0xFF);
            mac.CopyTo(frame[6..]);
            BinaryPrimitives.WriteUInt16BigEndian(frame[12..], EtherTypeArp);
            var arp = frame[14..];
            BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
            BinaryPrimitives.WriteUInt16BigEndian(arp[2..], EtherTypeIPv4);
            arp[4] = 6;
            arp[5] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(arp[6..], 1);
            mac.CopyTo(arp[8..]);
            address.TryWriteBytes(arp[14..18], out _);
            address.TryWriteBytes(arp[24..28], out _);

            Span<byte> link = stackalloc byte[20];
            link.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(link, AfPacket);
            BinaryPrimitives.WriteUInt16BigEndian(link[2..], EtherTypeArp);
            BinaryPrimitives.WriteInt32LittleEndian(link[4..], (int)index);
            link[11] = 6;
            link[12..18].Fill(0xFF);
            if (SendTo(fd, frame, link) != FrameLength)
            {
                throw new ServiceAddressException($"announcing {address} on {interfaceName}: sendto failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            LinuxSockets.Close(fd);
        }
    }

    private static unsafe void HardwareAddress(int fd, string interfaceName, Span<byte> mac)
    {
        // struct ifreq: the name in 16 bytes, then ifr_hwaddr, a sockaddr whose data starts 2 bytes in.
        Span<byte> request = stackalloc byte[40];
        request.Clear();
        Encoding.ASCII.GetBytes(interfaceName, request[..15]);
        fixed (byte* p = request)
        {
            if (Ioctl(fd, SiocGifHwAddr, p) != 0)
            {
                throw new ServiceAddressException($"reading the hardware address of {interfaceName} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }

        request[18..24].CopyTo(mac);
    }

    private static unsafe nint SendTo(int fd, ReadOnlySpan<byte> frame, ReadOnlySpan<byte> link)
    {
        fixed (byte* f = frame)
        fixed (byte* l = link)
        {
            return SendToNative(fd, f, (nuint)frame.Length, 0, l, (uint)link.Length);
        }
    }

    [LibraryImport("libc", EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint IfNameToIndex(string name);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int Ioctl(int fd, nuint request, byte* value);

    [LibraryImport("libc", EntryPoint = "sendto", SetLastError = true)]
    private static unsafe partial nint SendToNative(int fd, byte* buffer, nuint length, int flags, byte* address, uint addressLength);
}
