using Migration.Core.Pages;
using Migration.Core.Sockets;
using Migration.Core.State;
using Migration.Core.Streams;

namespace Migration.Core.Checkpoints;

/// <summary>What one checkpoint file holds, verified frame by frame without building a machine.</summary>
public sealed record CheckpointInspection(
    string Path,
    long FileBytes,
    StreamHeader Header,
    MachineDescriptor Machine,
    CheckpointInfo Checkpoint,
    IReadOnlyList<InspectedSection> Sections,
    PageBatchStats Pages,
    int Rounds,
    IReadOnlyList<VirtualSocket> Sockets,
    StreamSummary Summary);
