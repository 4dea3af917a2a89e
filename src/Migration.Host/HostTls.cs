using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Migration.Core.Transfer;

namespace Migration.Host;

/// <summary>
/// The daemon's TLS settings for the migration channel, from files: this host's certificate and key (one PEM file, or
/// PFX without a password), and what it trusts in a destination (a PEM file of CA or host certificates, SHA-256
/// pins). Every refusal is one line naming the file or option.
/// </summary>
public static class HostTls
{
    /// <summary>A key file is a key: as large as a long chain of certificates, not larger.</summary>
    private const long MaxFileBytes = 1024 * 1024;

    /// <returns>Null when no option is given: the channel is plain TCP, authenticated by the secret.</returns>
    public static MigrationTls? Load(string? certificateFile, string? trustFile, IReadOnlyCollection<string>? pins)
    {
        pins ??= [];
        if (certificateFile is null && trustFile is null && pins.Count == 0)
        {
            return null;
        }

        if (certificateFile is null)
        {
            throw new HostConfigurationException("--tls-ca and --tls-pin need --tls-cert: a host that sends over TLS must also receive over it");
        }

        if (trustFile is null && pins.Count == 0)
        {
            throw new HostConfigurationException("--tls-cert needs --tls-ca FILE or --tls-pin SHA256: what this host trusts in a destination's certificate");
        }

        foreach (var pin in pins)
        {
            var hex = pin.Replace(":", "", StringComparison.Ordinal);
            if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
            {
                throw new HostConfigurationException($"--tls-pin '{pin}' is not a SHA-256 fingerprint (64 hex digits, colons allowed)");
            }
        }

        var trusted = trustFile is null ? [] : LoadTrusted(trustFile);
        return new MigrationTls { Certificate = LoadCertificate(certificateFile), TrustedCertificates = trusted, PinnedSha256 = [.. pins] };
    }

    private static X509Certificate2 LoadCertificate(string path)
    {
        CheckFile(path, "TLS certificate file");
        if (OwnerOnlyMode.SharedMode(path) is { } octal)
        {
            throw new HostConfigurationException($"TLS certificate file {path} has mode {octal}: it holds the private key, so group and others must have no access (chmod 600 {path})");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = IsPem(path) ? X509Certificate2.CreateFromPemFile(path, path) : X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new HostConfigurationException($"TLS certificate file {path}: {Describe(e)} (give the certificate and its key in one PEM file, or a PFX without a password)", e);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new HostConfigurationException($"TLS certificate file {path} holds no private key (give the certificate and its key in one PEM file)");
        }

        return certificate;
    }

    private static X509Certificate2Collection LoadTrusted(string path)
    {
        CheckFile(path, "TLS trust file");
        var trusted = new X509Certificate2Collection();
        try
        {
            trusted.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new HostConfigurationException($"TLS trust file {path}: {Describe(e)}", e);
        }

        if (trusted.Count == 0)
        {
            throw new HostConfigurationException($"TLS trust file {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }

        return trusted;
    }

    private static void CheckFile(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new HostConfigurationException(Directory.Exists(path) ? $"{what} {path} is a directory" : $"{what} {path} does not exist");
        }

        var length = new FileInfo(path).Length;
        if (length > MaxFileBytes)
        {
            throw new HostConfigurationException(string.Create(CultureInfo.InvariantCulture, $"{what} {path} is {length} bytes; a certificate file is at most {MaxFileBytes}"));
        }
    }

    /// <summary>PEM by its armour anywhere in the file (openssl may put attribute lines before it); anything else is taken for PFX.</summary>
    private static bool IsPem(string path) => File.ReadAllBytes(path).AsSpan().IndexOf("-----BEGIN"u8) >= 0;

    private static string Describe(Exception e) => e.Message.TrimEnd('.').Replace(Environment.NewLine, " ", StringComparison.Ordinal);
}
