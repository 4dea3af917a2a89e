namespace Migration.Core.Sockets;

public enum VirtualSocketType
{
    Stream = 1,
    Datagram = 2,
}
