using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Migration.Host;

/// <summary>
/// Where a loopback daemon leaves its API token for its own user, and where a client of that address finds it:
/// <c>$XDG_RUNTIME_DIR/migration/</c> when the session has a runtime directory, else <c>~/.migration/tokens/</c>; the
/// file is <c>api-ADDRESS-PORT.token</c>. The directory is 0700 and the file 0600 from the moment it exists, so the
/// token is never readable by anyone else, not even briefly.
/// </summary>
public static class ApiTokenFile
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The directory this user's daemons and clients agree on.</summary>
    public static string DefaultDirectory()
    {
        var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (!string.IsNullOrEmpty(runtime) && Path.IsPathFullyQualified(runtime) && Directory.Exists(runtime))
        {
            return Path.Combine(runtime, "migration");
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".migration", "tokens");
    }

    /// <summary>The token file of a loopback API address, in <paramref name="directory"/> (null: <see cref="DefaultDirectory"/>).</summary>
    public static string PathFor(ApiAddress address, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        var endpoint = address.Endpoint ?? throw new ArgumentException("a Unix socket API has no token: its file mode protects it", nameof(address));
        var name = string.Create(CultureInfo.InvariantCulture, $"api-{endpoint.Address}-{endpoint.Port}.token");
        return Path.Combine(directory ?? DefaultDirectory(), name);
    }

    /// <summary>
    /// Writes the token under a temporary name created with mode 0600, then renames it into place, so a reader sees
    /// the whole token or none and a file a killed daemon left is replaced. Refuses a directory others may enter.
    /// </summary>
    public static void Write(string path, ApiToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var directory = Path.GetDirectoryName(path)!;
        var temporary = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)));
        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory, OwnerOnlyDirectory);
            }

            if (OwnerOnlyMode.SharedMode(directory) is { } octal)
            {
                throw new HostConfigurationException($"cannot write the API token to {directory}: it has mode {octal}; it must be the user's alone (chmod 700 {directory})");
            }

            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnlyFile;
            }

            using (var file = new FileStream(temporary, options))
            {
                file.Write(Encoding.ASCII.GetBytes(token.Text));
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Remove(temporary);
            throw new HostConfigurationException($"cannot write the API token to {path}: {e.Message}", e);
        }
    }

    /// <summary>Reads the token a daemon wrote; every failure is one line that says where it looked.</summary>
    /// <exception cref="Client.ApiTokenException">No readable, non-empty token file for the address.</exception>
    public static ApiToken Read(ApiAddress address, string path)
    {
        ArgumentNullException.ThrowIfNull(address);
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.ASCII);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new Client.ApiTokenException($"no API token for {address} in {path}: is the daemon running as this user?", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new Client.ApiTokenException($"cannot read the API token for {address} in {path} (permission denied): is the daemon running as this user?", e);
        }
        catch (IOException e)
        {
            throw new Client.ApiTokenException($"cannot read the API token for {address} in {path}: {e.Message}", e);
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw new Client.ApiTokenException($"the API token file {path} for {address} is empty");
        }

        return ApiToken.FromText(text);
    }

    /// <summary>Best effort: a file left behind is replaced by the next daemon on that address and useless to anyone else.</summary>
    public static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
