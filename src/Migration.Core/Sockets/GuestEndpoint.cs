using System.Net;
using MessagePack;

namespace Migration.Core.Sockets;

/// <summary>An address and port as the guest sees them; independent of the host endpoint behind it.</summary>
[MessagePackObject]
public sealed record GuestEndpoint
{
    public GuestEndpoint(byte[] address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.Length is not (4 or 16))
        {
            throw new ArgumentException($"an address has 4 or 16 bytes, not {address.Length}", nameof(address));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Address = address;
        Port = port;
    }

    [Key(0)]
    public byte[] Address { get; }

    [Key(1)]
    public int Port { get; }

    [IgnoreMember]
    public VirtualAddressFamily Family => Address.Length == 4 ? VirtualAddressFamily.IPv4 : VirtualAddressFamily.IPv6;

    [IgnoreMember]
    public bool IsAny => Address.All(b => b == 0);

    public static GuestEndpoint From(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return new GuestEndpoint(endpoint.Address.GetAddressBytes(), endpoint.Port);
    }

    public IPEndPoint ToIPEndPoint() => new(new IPAddress(Address), Port);

    public bool Equals(GuestEndpoint? other) => other is not null && Port == other.Port && Address.AsSpan().SequenceEqual(other.Address);

    public override int GetHashCode() => HashCode.Combine(Port, Address.Length, Address[^1]);

    public override string ToString() => ToIPEndPoint().ToString();
}
