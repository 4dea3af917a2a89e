using Migration.Core.Sockets;

namespace Migration.Cli.Commands;

internal sealed record ForegroundSettings(string Name, PortMap Ports, bool Stats, TimeSpan? CheckpointEvery, DirectoryInfo? CheckpointDirectory);
