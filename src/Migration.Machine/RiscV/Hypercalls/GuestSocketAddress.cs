using System.Buffers.Binary;
using Migration.Core.Memory;
using Migration.Core.Sockets;

namespace Migration.Machine.RiscV.Hypercalls;

/// <summary>Reads and writes Linux <c>sockaddr_in</c>/<c>sockaddr_in6</c> in guest memory, checking every pointer and length.</summary>
internal static class GuestSocketAddress
{
    public const int IPv4Size = 16;
    public const int IPv6Size = 28;
    private const ushort AfInet = 2;
    private const ushort AfInet6 = 10;

    /// <summary>0 and the endpoint, or a positive errno.</summary>
    public static int Read(GuestMemory memory, ulong address, ulong length, out GuestEndpoint? endpoint)
    {
        endpoint = null;
        if (length < 2 || length > 128)
        {
            return SocketErrno.EINVAL;
        }

        if (!memory.TryGetSpan(address, length, out var bytes))
        {
            return SocketErrno.EFAULT;
        }

        var family = BinaryPrimitives.ReadUInt16LittleEndian(bytes);
        switch (family)
        {
            case AfInet when length >= IPv4Size:
                endpoint = new GuestEndpoint(bytes.Slice(4, 4).ToArray(), BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]));
                return 0;
            case AfInet6 when length >= IPv6Size:
                endpoint = new GuestEndpoint(bytes.Slice(8, 16).ToArray(), BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]));
                return 0;
            case AfInet or AfInet6:
                return SocketErrno.EINVAL;
            default:
                return SocketErrno.EAFNOSUPPORT;
        }
    }

    /// <summary>Stores an endpoint at <paramref name="address"/> (truncated to the guest's buffer) and its full size at <paramref name="lengthAddress"/>; no-op when address is 0.</summary>
    public static int Write(GuestMemory memory, ulong address, ulong lengthAddress, GuestEndpoint? endpoint)
    {
        if (address == 0 || endpoint is null)
        {
            return 0;
        }

        if (!memory.TryGetSpan(lengthAddress, 4, out var lengthBytes))
        {
            return SocketErrno.EFAULT;
        }

        var capacity = BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        Span<byte> encoded = stackalloc byte[IPv6Size];
        encoded.Clear();
        int size;
        if (endpoint.Family == VirtualAddressFamily.IPv4)
        {
            size = IPv4Size;
            BinaryPrimitives.WriteUInt16LittleEndian(encoded, AfInet);
            endpoint.Address.CopyTo(encoded[4..]);
        }
        else
        {
            size = IPv6Size;
            BinaryPrimitives.WriteUInt16LittleEndian(encoded, AfInet6);
            endpoint.Address.CopyTo(encoded[8..]);
        }

        BinaryPrimitives.WriteUInt16BigEndian(encoded[2..], (ushort)endpoint.Port);
        var stored = (int)Math.Min(capacity, (uint)size);
        if (!memory.Contains(address, (ulong)stored))
        {
            return SocketErrno.EFAULT;
        }

        memory.Write(address, encoded[..stored]);
        Span<byte> sizeBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(sizeBytes, (uint)size);
        memory.Write(lengthAddress, sizeBytes);
        return 0;
    }
}
