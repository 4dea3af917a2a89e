namespace Migration.Core.Transfer;

/// <summary>One message of the back channel: typed, tiny and length-bounded.</summary>
/// <param name="Reason">For <see cref="ControlMessageType.Error"/>: the cause, printable.</param>
/// <param name="StartVcpu">For <see cref="ControlMessageType.Commit"/>: the VM ran on the source, so the destination starts it.</param>
/// <param name="Round">For <see cref="ControlMessageType.RoundDone"/>: the round now in the destination's memory.</param>
public sealed record ControlMessage(ControlMessageType Type, string? Reason = null, bool StartVcpu = false, int Round = 0)
{
    public static ControlMessage Ready { get; } = new(ControlMessageType.Ready);

    public static ControlMessage Resumed { get; } = new(ControlMessageType.Resumed);

    public static ControlMessage Commit(bool startVcpu) => new(ControlMessageType.Commit, StartVcpu: startVcpu);

    public static ControlMessage Error(string reason) => new(ControlMessageType.Error, reason);

    public static ControlMessage RoundDone(int round) => new(ControlMessageType.RoundDone, Round: round);

    public override string ToString() => Type switch
    {
        ControlMessageType.Error => $"Error({Reason})",
        ControlMessageType.Commit => $"Commit(start: {StartVcpu})",
        ControlMessageType.RoundDone => $"RoundDone({Round})",
        _ => Type.ToString(),
    };
}
