namespace Migration.Core.Transfer;

public sealed class MigrationOptions
{
    private readonly TimeSpan _downtimeTarget = TimeSpan.FromMilliseconds(30);
    private readonly long? _maxBandwidth;
    private readonly int _maxRounds = 30;
    private readonly int _compressionThreads = Environment.ProcessorCount;

    /// <summary>The shared secret both hosts hold; see <see cref="ChannelAuthenticator"/>.</summary>
    public required ReadOnlyMemory<byte> Secret { get; init; }

    public TimeSpan AuthenticationTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>TLS around the channel; the destination's certificate must be trusted by it. Null: plain TCP (the HMAC handshake authenticates either way).</summary>
    public MigrationTls? Tls { get; init; }

    /// <summary>Stop-and-copy starts once the dirty pages can be sent in this time at the measured bandwidth.</summary>
    public TimeSpan DowntimeTarget
    {
        get => _downtimeTarget;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _downtimeTarget = value;
        }
    }

    /// <summary>
    /// Bytes per second the pre-copy rounds may use; null is unlimited. As in QEMU, the cap is lifted for stop-and-copy,
    /// where every millisecond is guest downtime.
    /// </summary>
    public long? MaxBandwidth
    {
        get => _maxBandwidth;
        init
        {
            if (value is { } v)
            {
                ArgumentOutOfRangeException.ThrowIfNegativeOrZero(v);
            }

            _maxBandwidth = value;
        }
    }

    /// <summary>Pre-copy rounds (round 0 included) after which stop-and-copy starts whatever the dirty set.</summary>
    public int MaxRounds
    {
        get => _maxRounds;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _maxRounds = value;
        }
    }

    /// <summary>
    /// Off by default: K4os LZ4 compresses text-like pages at ~0.3 GB/s a core, slower than loopback or a LAN link
    /// carries raw pages (see <see cref="Pages.PageCodecOptions.Compress"/>). Zero pages are elided either way.
    /// </summary>
    public bool Compress { get; init; }

    public int CompressionThreads
    {
        get => _compressionThreads;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _compressionThreads = value;
        }
    }

    /// <summary>How long the source waits for the destination's Ready, then for its Resumed.</summary>
    public TimeSpan HandoverTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one write of the stream may wait for the destination to take bytes: a destination that hangs, or a link
    /// that drops everything, keeps the connection open, and the migration rolls back after this long.
    /// </summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Auto-converge: the first throttle, the step added each round the guest still outruns the link, the ceiling.</summary>
    public double InitialThrottle { get; init; } = 0.2;

    public double ThrottleStep { get; init; } = 0.1;

    public double MaxThrottle { get; init; } = 0.99;

    /// <summary>Progress is reported at least once per round, and this often within a long one.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(100);
}
