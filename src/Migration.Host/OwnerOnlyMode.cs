namespace Migration.Host;

/// <summary>
/// The one check behind every file that holds a secret (the shared secret, a TLS key, the API token's directory): group
/// and others must have no access at all.
/// </summary>
internal static class OwnerOnlyMode
{
    private const UnixFileMode GroupOrOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>The mode in octal (e.g. <c>0644</c>) when group or others have any access to the path, else null; always null on Windows, whose ACLs this does not read.</summary>
    public static string? SharedMode(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        var mode = File.GetUnixFileMode(path);
        return (mode & GroupOrOthers) == 0 ? null : Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0');
    }
}
