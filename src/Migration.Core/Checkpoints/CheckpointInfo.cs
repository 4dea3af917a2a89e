using MessagePack;
using Migration.Core.State;

namespace Migration.Core.Checkpoints;

/// <summary>
/// Says where a checkpoint stands in its chain. A full checkpoint has no parent; an incremental one holds only the
/// pages dirtied since its parent, which it names by the parent stream's digest.
/// </summary>
[MessagePackObject]
public sealed class CheckpointInfo
{
    public const int SectionVersion = 1;

    [Key(0)]
    public int Sequence { get; set; }

    [Key(1)]
    public ulong? ParentDigest { get; set; }

    [Key(2)]
    public long CreatedUnixMilliseconds { get; set; }

    [IgnoreMember]
    public bool IsIncremental => ParentDigest is not null;

    public StateSection ToSection() => SectionCodec.Encode(SectionNames.Checkpoint, SectionVersion, this);

    public static CheckpointInfo FromSection(StateSection section)
    {
        var info = SectionCodec.Decode<CheckpointInfo>(section, SectionVersion);
        if (info.Sequence < 0 || (info.Sequence == 0) != (info.ParentDigest is null))
        {
            throw new StateSectionException(SectionNames.Checkpoint, $"sequence {info.Sequence} does not fit a {(info.IsIncremental ? "incremental" : "full")} checkpoint");
        }

        return info;
    }
}
