namespace Migration.Core.Transfer;

/// <summary>Constants of the live-migration protocol around the stream (PROTOCOL.md beside this file is the byte layout).</summary>
public static class TransferProtocol
{
    /// <summary>"MIGRAUTH".</summary>
    public static ReadOnlySpan<byte> AuthMagic => "MIGRAUTH"u8;

    public const ushort Version = 1;

    public const int NonceSize = 32;

    public const int MacSize = 32;

    /// <summary>Magic, version, nonce.</summary>
    public const int HelloSize = 8 + 2 + NonceSize;

    public const byte Accept = 1;

    public const byte Refuse = 0;

    /// <summary>The destination's verdict for a source that did not wrap the channel in TLS where the destination requires it.</summary>
    public const byte RefuseRequiresTls = 2;

    /// <summary>Short secrets are guessable offline from one recorded handshake; 16 bytes is a floor, not a recommendation.</summary>
    public const int MinSecretLength = 16;

    /// <summary>Type, payload length.</summary>
    public const int ControlHeaderSize = 3;

    /// <summary>Bound on an Error's UTF-8 reason: a line for a log, not a transcript.</summary>
    public const int MaxErrorLength = 1024;

    public const byte CommitStartVcpu = 1;

    // HMAC labels: each side's proof names its role, so a proof cannot be reflected back as the other side's.
    internal static ReadOnlySpan<byte> ClientLabel => "migration-auth-v1 client"u8;

    internal static ReadOnlySpan<byte> ServerLabel => "migration-auth-v1 server"u8;
}
