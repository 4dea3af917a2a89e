using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Migration.Host.Tests;

/// <summary>
/// Client sockets inside a named network namespace (<c>ip netns</c>), made from this process: a socket belongs to the
/// namespace of the thread that created it, so a short-lived thread enters the namespace, connects and ends.
/// </summary>
internal static partial class NetworkNamespace
{
    private const int CloneNewNet = 0x40000000;

    public static Socket Connect(string name, IPEndPoint endpoint)
    {
        Socket? socket = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/run/netns/{name}");
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new IOException($"setns into {name} failed: errno {Marshal.GetLastPInvokeError()}");
                }

                var s = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                s.Connect(endpoint);
                socket = s;
            }
            catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
            {
                error = e;
            }
        });
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException($"connecting to {endpoint} in namespace {name} took over 30 s");
        }

        return socket ?? throw new IOException($"cannot connect to {endpoint} in namespace {name}: {error?.Message}", error);
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int namespaceType);
}
