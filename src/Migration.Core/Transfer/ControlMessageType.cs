namespace Migration.Core.Transfer;

/// <summary>The first byte of a control message (PROTOCOL.md).</summary>
public enum ControlMessageType : byte
{
    /// <summary>Destination → source: the whole stream verified and the machine built; it waits for Commit.</summary>
    Ready = 1,

    /// <summary>Source → destination: the source gives the VM up; the destination now owns it.</summary>
    Commit = 2,

    /// <summary>Destination → source: the destination took the VM over (its vCPU runs, if the source's did).</summary>
    Resumed = 3,

    /// <summary>Either way: the sender gives up; the payload is the reason, one UTF-8 line.</summary>
    Error = 4,

    /// <summary>Destination → source: the pages of a round (u32 payload) are in memory, so nothing of it is in flight any more.</summary>
    RoundDone = 5,
}
