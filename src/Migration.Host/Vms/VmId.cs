using System.Security.Cryptography;

namespace Migration.Host.Vms;

/// <summary>
/// VM ids: short, random, and stable for the VM's life — also across migrations, so the destination takes the id
/// the source sends rather than making one. Ids are path segments of the API, hence the narrow alphabet.
/// </summary>
public static class VmId
{
    public const string Prefix = "vm-";

    public const int MaxLength = 64;

    /// <summary>Six hex digits: 16 million ids, ample for one host's VMs; a collision is retried by the registry.</summary>
    public static string New() => Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    /// <summary>Lowercase letters, digits, '-' and '_', starting with a letter or digit, at most <see cref="MaxLength"/> characters.</summary>
    public static bool IsValid(string? id) =>
        !string.IsNullOrEmpty(id)
        && id.Length <= MaxLength
        && char.IsAsciiLetterOrDigit(id[0])
        && id.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_');
}
