using Migration.Core.Sockets;

namespace Migration.Core.State;

/// <summary>What a parked machine holds besides its memory: its own sections (CPU, devices) and its socket table.</summary>
public sealed record ParkedMachineState(IReadOnlyList<StateSection> DeviceSections, IReadOnlyList<VirtualSocket> Sockets);
