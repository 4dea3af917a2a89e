namespace Migration.Core.Streams;

/// <summary>The kinds of frame a migration stream carries; the byte value is the frame's first byte.</summary>
public enum FrameType : byte
{
    /// <summary>A named, versioned state section (MessagePack body).</summary>
    Section = 1,

    /// <summary>One page batch (see Pages/FORMAT.md), unchanged.</summary>
    Pages = 2,

    /// <summary>Closes a pre-copy round: batches of the next round may overwrite pages of this one.</summary>
    RoundEnd = 3,

    /// <summary>The trailer: frame count, byte count and the digest of the whole stream. Always last.</summary>
    End = 255,
}
