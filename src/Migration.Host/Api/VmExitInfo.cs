using Migration.Machine.RiscV;

namespace Migration.Host.Api;

/// <param name="Code">The guest's exit code when <paramref name="Kind"/> is Exited; 0 otherwise.</param>
/// <param name="Message">The fault, for Faulted; null otherwise.</param>
public sealed record VmExitInfo(MachineExitKind Kind, long Code, string? Message, ulong InstructionsRetired, DateTimeOffset At);
