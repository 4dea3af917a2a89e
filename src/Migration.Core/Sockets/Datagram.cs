using MessagePack;

namespace Migration.Core.Sockets;

/// <summary>A UDP datagram waiting in a receive queue, with the sender's address.</summary>
[MessagePackObject]
public sealed record Datagram([property: Key(0)] GuestEndpoint From, [property: Key(1)] byte[] Payload);
