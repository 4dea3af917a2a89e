namespace Migration.Core.Sockets;

public enum VirtualAddressFamily
{
    IPv4 = 2,
    IPv6 = 10,
}
