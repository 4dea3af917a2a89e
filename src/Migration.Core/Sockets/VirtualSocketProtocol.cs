namespace Migration.Core.Sockets;

public enum VirtualSocketProtocol
{
    Tcp = 6,
    Udp = 17,
}
