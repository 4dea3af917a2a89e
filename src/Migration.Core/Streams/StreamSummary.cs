namespace Migration.Core.Streams;

/// <summary>
/// What the end frame records: frames before it, bytes before it, and the digest over the header and every frame
/// checksum — which names the stream's contents (a checkpoint's parent is named by it).
/// </summary>
public readonly record struct StreamSummary(long Frames, long Bytes, ulong Digest)
{
    public string DigestText => Digest.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
}
