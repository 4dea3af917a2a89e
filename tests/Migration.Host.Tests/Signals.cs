using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Migration.Host.Tests;

/// <summary>Sends a process SIGTERM, as a service manager stops a daemon; .NET itself can only SIGKILL.</summary>
internal static partial class Signals
{
    private const int SigTerm = 15;

    public static void Terminate(Process process)
    {
        if (Kill(process.Id, SigTerm) != 0)
        {
            throw new IOException($"kill({process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
