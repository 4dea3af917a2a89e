namespace Migration.Core.Pages;

/// <summary>How one page is stored in a batch; the values are wire values (bits 13–15 of a page descriptor).</summary>
public enum PageKind : byte
{
    /// <summary>All 4096 bytes are zero; nothing is stored.</summary>
    Zero = 0,

    /// <summary>The 4096 bytes as they are.</summary>
    Raw = 1,

    /// <summary>One LZ4 block that decodes to exactly 4096 bytes.</summary>
    Lz4 = 2,
}
