using System.Globalization;
using System.Net;
using System.Text;

namespace Migration.Host;

/// <summary>
/// Where the control API answers: <c>unix:/path/to.sock</c> or a loopback <c>127.0.0.1:PORT</c>. The API controls
/// every VM on the host, so it never listens beyond this machine, and on it only the daemon's user gets in: through the
/// socket file's permissions (0600), or on loopback, which every local user reaches, with the bearer token of
/// <see cref="ApiTokenFile"/>.
/// </summary>
public sealed record ApiAddress
{
    /// <summary>sun_path holds 108 bytes with the terminating NUL.</summary>
    public const int MaxUnixPathBytes = 107;

    private ApiAddress(string? unixPath, IPEndPoint? endpoint)
    {
        UnixPath = unixPath;
        Endpoint = endpoint;
    }

    /// <summary>The socket file's absolute path; null for a TCP address.</summary>
    public string? UnixPath { get; }

    /// <summary>The loopback endpoint; null for a Unix socket.</summary>
    public IPEndPoint? Endpoint { get; }

    public bool IsUnix => UnixPath is not null;

    public static ApiAddress Unix(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new ApiAddress(Path.GetFullPath(path), null);
    }

    public static ApiAddress Loopback(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IPAddress.IsLoopback(endpoint.Address))
        {
            throw new ArgumentException($"{endpoint.Address} is not a loopback address", nameof(endpoint));
        }

        return new ApiAddress(null, endpoint);
    }

    /// <summary>Parses <c>unix:PATH</c> or <c>ADDRESS:PORT</c> on loopback; port 0 (the system picks) only when <paramref name="allowAnyPort"/>.</summary>
    public static bool TryParse(string? text, bool allowAnyPort, out ApiAddress? address, out string? error)
    {
        address = null;
        text = text?.Trim() ?? "";
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = text["unix:".Length..];
            if (path.Length == 0)
            {
                error = "unix: needs a path, as in unix:/run/migration.sock";
                return false;
            }

            try
            {
                path = Path.GetFullPath(path);
            }
            catch (ArgumentException e)
            {
                error = $"'{path}' is not a path: {e.Message}";
                return false;
            }

            var bytes = Encoding.UTF8.GetByteCount(path);
            if (bytes > MaxUnixPathBytes)
            {
                error = $"the socket path {path} is {bytes} bytes; a Unix socket path is at most {MaxUnixPathBytes}";
                return false;
            }

            address = new ApiAddress(path, null);
            error = null;
            return true;
        }

        if (!IPEndPoint.TryParse(text, out var endpoint) || !text.Contains(':', StringComparison.Ordinal) || text.EndsWith(']'))
        {
            error = $"'{text}' is not an API address: use unix:/path/to.sock or 127.0.0.1:PORT";
            return false;
        }

        if (!IPAddress.IsLoopback(endpoint.Address))
        {
            error = $"'{text}': the API listens on loopback only (127.0.0.1 or [::1]), or on a unix: socket";
            return false;
        }

        if (endpoint.Port == 0 && !allowAnyPort)
        {
            error = $"'{text}': give the port the daemon listens on";
            return false;
        }

        address = new ApiAddress(null, endpoint);
        error = null;
        return true;
    }

    public static ApiAddress Parse(string text, bool allowAnyPort = false) =>
        TryParse(text, allowAnyPort, out var address, out var error) ? address! : throw new FormatException(error);

    /// <summary>The same address with the port the system picked for port 0.</summary>
    public ApiAddress WithPort(int port) => Endpoint is null ? this : new ApiAddress(null, new IPEndPoint(Endpoint.Address, port));

    public override string ToString() => UnixPath is not null
        ? "unix:" + UnixPath
        : Endpoint!.ToString();

    /// <summary>For HTTP requests: the host part of a URL; a Unix socket has none, so any name does.</summary>
    internal Uri BaseUri => UnixPath is not null
        ? new Uri("http://localhost/")
        : new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{Endpoint}/"));
}
