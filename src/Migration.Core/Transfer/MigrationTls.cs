using System.Security.Cryptography.X509Certificates;

namespace Migration.Core.Transfer;

/// <summary>
/// TLS around the migration channel. The destination presents <see cref="Certificate"/>; the source accepts a
/// destination's certificate when its SHA-256 fingerprint is pinned or it chains to one of
/// <see cref="TrustedCertificates"/>. The HMAC handshake still runs inside, so the secret keeps authenticating both
/// sides and TLS adds confidentiality and a destination identity that does not depend on the secret alone.
/// </summary>
/// <remarks>
/// Host names are not checked: hosts migrate by address, often between network namespaces, and the trusted set is the
/// cluster's own (a private CA, or the hosts' own certificates), in which every certificate is a host.
/// </remarks>
public sealed class MigrationTls
{
    /// <summary>This host's certificate with its private key, presented when it receives a migration.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>CA certificates (any certificate they issued is a host) or hosts' own self-signed certificates.</summary>
    public X509Certificate2Collection TrustedCertificates { get; init; } = [];

    /// <summary>SHA-256 fingerprints of destination certificates accepted as they are: hex, colons allowed.</summary>
    public IReadOnlyCollection<string> PinnedSha256 { get; init; } = [];

    /// <summary>The fingerprint as <see cref="PinnedSha256"/> holds it, in upper-case hex without colons.</summary>
    public static string Fingerprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256);
    }

    internal static string NormalizePin(string pin) => pin.Replace(":", "", StringComparison.Ordinal).Trim().ToUpperInvariant();
}
