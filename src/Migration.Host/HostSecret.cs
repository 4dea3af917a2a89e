using System.Security.Cryptography;

namespace Migration.Host;

/// <summary>
/// The shared secret that authenticates migration channels between daemons. Read once at start from a file only its
/// owner may read; held here and handed to the migration endpoint alone — the API never sees it, and
/// <see cref="ToString"/> does not show it, so it cannot reach a log by accident.
/// </summary>
public sealed class HostSecret : IDisposable
{
    /// <summary>A secret is a key, not a document: anything longer is a wrong file.</summary>
    public const int MaxBytes = 64 * 1024;

    private readonly byte[] _key;

    private HostSecret(byte[] key) => _key = key;

    /// <summary>The key bytes, for HMAC.</summary>
    public ReadOnlyMemory<byte> Key => _key;

    /// <summary>
    /// Reads the secret. Refused with a <see cref="HostConfigurationException"/>: a missing or empty file, one larger
    /// than <see cref="MaxBytes"/> or shorter than the transfer engine's minimum, and one that group or others may access (the check ssh makes of private keys).
    /// A trailing newline is not part of the secret, so <c>echo</c> and an editor make the same one.
    /// </summary>
    public static HostSecret Load(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new HostConfigurationException("no secret file given: the migration channel needs one (--secret-file)");
        }

        if (!File.Exists(path))
        {
            throw new HostConfigurationException(Directory.Exists(path)
                ? $"secret file {path} is a directory"
                : $"secret file {path} does not exist");
        }

        if (OwnerOnlyMode.SharedMode(path) is { } octal)
        {
            throw new HostConfigurationException($"secret file {path} has mode {octal}: group and others must have no access (chmod 600 {path})");
        }

        byte[] bytes;
        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxBytes)
            {
                throw new HostConfigurationException($"secret file {path} is {length} bytes; a secret is at most {MaxBytes}");
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HostConfigurationException($"secret file {path}: {e.Message}", e);
        }

        var end = bytes.Length;
        while (end > 0 && bytes[end - 1] is (byte)'\n' or (byte)'\r')
        {
            end--;
        }

        if (end == 0)
        {
            CryptographicOperations.ZeroMemory(bytes);
            throw new HostConfigurationException($"secret file {path} is empty");
        }

        if (end < Migration.Core.Transfer.TransferProtocol.MinSecretLength)
        {
            CryptographicOperations.ZeroMemory(bytes);
            throw new HostConfigurationException(
                $"secret file {path} holds {end} bytes; a secret needs at least {Migration.Core.Transfer.TransferProtocol.MinSecretLength} (e.g. head -c 32 /dev/urandom | base64 > {path})");
        }

        var key = bytes[..end];
        CryptographicOperations.ZeroMemory(bytes);
        return new HostSecret(key);
    }

    public override string ToString() => "(secret)";

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
