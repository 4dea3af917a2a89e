namespace Migration.Machine.RiscV.Hypercalls;

public enum HypercallOutcomeKind
{
    /// <summary>The call finished; the value goes to a0 and the guest continues after the ecall.</summary>
    Complete,

    /// <summary>The guest asked to stop with an exit code.</summary>
    Exit,

    /// <summary>The call cannot finish yet; pc stays on the ecall and the call is issued again after a wait.</summary>
    Block,
}

/// <summary>What a hypercall did; a value type because the dispatcher returns one per guest ecall.</summary>
public readonly record struct HypercallOutcome(HypercallOutcomeKind Kind, long Value, long WakeAtNanoseconds)
{
    public static HypercallOutcome Complete(long value) => new(HypercallOutcomeKind.Complete, value, 0);

    public static HypercallOutcome Error(long errno) => new(HypercallOutcomeKind.Complete, -errno, 0);

    public static HypercallOutcome Exit(long code) => new(HypercallOutcomeKind.Exit, code, 0);

    /// <summary>Block until woken, or until the guest clock reads <paramref name="wakeAtNanoseconds"/> (long.MaxValue: no timeout).</summary>
    public static HypercallOutcome Block(long wakeAtNanoseconds) => new(HypercallOutcomeKind.Block, 0, wakeAtNanoseconds);
}
