using MessagePack;
using Migration.Core.Memory;
using Migration.Core.State;

namespace Migration.Machine.RiscV.State;

/// <summary>
/// The machine's devices as the <c>devices</c> section (version 1) carries them. There is no exit state: a machine
/// that has finished is not captured, so a restored one always has something left to run.
/// </summary>
[MessagePackObject]
public sealed class DeviceState
{
    /// <summary>
    /// Headroom for the clock: a restored clock adds host time to this value, and guest deadlines add to what it
    /// reads, so a value this close to <see cref="long.MaxValue"/> (146 years) could only overflow, never be real.
    /// </summary>
    public const long MaxClockNanoseconds = 1L << 62;

    /// <summary>The guest's monotonic clock at capture; a restored clock continues from here.</summary>
    [Key(0)]
    public long ClockNanoseconds { get; set; }

    /// <summary>The HTIF tohost word: it came from an ELF symbol, and the ELF is not part of a checkpoint.</summary>
    [Key(1)]
    public ulong? ToHostAddress { get; set; }

    /// <summary>Console bytes the guest had written at capture; the restored machine counts on from here.</summary>
    [Key(2)]
    public long ConsoleBytesWritten { get; set; }

    internal void Validate(GuestMemory memory)
    {
        const string section = RiscVStateSections.Devices;
        if (ClockNanoseconds is < 0 or > MaxClockNanoseconds)
        {
            throw new StateSectionException(section, $"clock {ClockNanoseconds} ns is outside 0..2^62 ns");
        }

        if (ToHostAddress is { } toHost)
        {
            if (!memory.Contains(toHost, 8))
            {
                throw new StateSectionException(section, $"tohost 0x{toHost:x} is outside RAM 0x{memory.Base:x}..0x{memory.End:x}");
            }

            if ((toHost & 7) != 0)
            {
                throw new StateSectionException(section, $"tohost 0x{toHost:x} is not 8-byte aligned");
            }
        }

        if (ConsoleBytesWritten < 0)
        {
            throw new StateSectionException(section, $"console byte count {ConsoleBytesWritten} is negative");
        }
    }
}
