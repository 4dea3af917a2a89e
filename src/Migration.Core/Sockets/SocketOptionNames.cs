namespace Migration.Core.Sockets;

/// <summary>Option levels and names with their Linux values, as the guest passes them.</summary>
public static class SocketOptionNames
{
    public const int SolSocket = 1;
    public const int IpProtoTcp = 6;

    public const int SoReuseAddr = 2;
    public const int SoType = 3;
    public const int SoError = 4;
    public const int SoSndBuf = 7;
    public const int SoRcvBuf = 8;
    public const int SoKeepAlive = 9;
    public const int SoLinger = 13;

    public const int TcpNoDelay = 1;
}
