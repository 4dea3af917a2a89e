using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace Migration.Host;

/// <summary>
/// The API's Unix socket: created with mode 0600 before it accepts anyone, cleared of a stale file a killed daemon
/// left, and never taken from a daemon that still answers on it.
/// </summary>
internal static class ApiSocket
{
    /// <summary>
    /// Kestrel's hook for creating its listening socket. The mode is set between bind and listen: a socket that is
    /// bound but not listening refuses every connect, so no one can get in while the file still has the umask's mode.
    /// </summary>
    public static Socket CreateBound(EndPoint endpoint, string? unixPath)
    {
        if (endpoint is not UnixDomainSocketEndPoint unix || unixPath is null)
        {
            return SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(unix);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(unixPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Makes the path free to bind, or says in one line why it is not.</summary>
    public static void PreparePath(string path, ILogger logger)
    {
        var directory = Path.GetDirectoryName(path);
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new HostConfigurationException($"cannot listen on unix:{path}: the directory {directory} does not exist");
        }

        if (Directory.Exists(path))
        {
            throw new HostConfigurationException($"cannot listen on unix:{path}: it is a directory");
        }

        if (!File.Exists(path))
        {
            return;
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new HostConfigurationException($"cannot listen on unix:{path}: another daemon answers there");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Nobody listens: what is left is a stale socket, or a file that is not a socket at all.
            }
            catch (SocketException e)
            {
                throw new HostConfigurationException($"cannot listen on unix:{path}: {e.Message}", e);
            }
        }

        // .NET cannot ask for the file type, and connect(2) refuses a regular file the same way as a dead socket. A
        // socket file has no size, so only an empty file is removed: a user's data under that name is never touched.
        if (new FileInfo(path).Length != 0)
        {
            throw new HostConfigurationException($"cannot listen on unix:{path}: a file that is not a socket is in the way");
        }

        File.Delete(path);
        Log.RemovedStaleSocket(logger, path);
    }

    public static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort at shutdown: a leftover file is cleared by the next start.
        }
    }
}
