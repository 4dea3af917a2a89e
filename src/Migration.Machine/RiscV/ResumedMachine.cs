using Migration.Core.Checkpoints;
using Migration.Core.Pages;
using Migration.Core.Sockets;

namespace Migration.Machine.RiscV;

/// <summary>A machine rebuilt from a checkpoint, not yet started, with what the restore did to reach it.</summary>
/// <param name="Chain">The files read, full checkpoint first; empty when restored from a stream.</param>
/// <param name="ReadTime">From opening the first file to the machine being ready to start.</param>
public sealed record ResumedMachine(
    RiscVMachine Machine,
    CheckpointInfo Checkpoint,
    ulong Digest,
    IReadOnlyList<string> Chain,
    PageBatchStats Pages,
    IReadOnlyList<SocketRebinding> Rebindings,
    TimeSpan ReadTime);
