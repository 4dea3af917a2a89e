namespace Migration.Networking.Repair;

/// <summary>Whether TCP repair and the network lock work in this process, asked once of the kernel itself.</summary>
public static class RepairSupport
{
    /// <returns>Null when both work; otherwise one line saying what is missing.</returns>
    public static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "TCP repair is a Linux facility";
        }

        var fd = LinuxSockets.Socket(LinuxSockets.AfInet, LinuxSockets.SockStream, 0);
        if (fd < 0)
        {
            return "cannot create a TCP socket";
        }

        try
        {
            TcpRepair.EnterRepair(fd, "a probe socket");
        }
        catch (TcpRepairException e)
        {
            return e.Message;
        }
        finally
        {
            LinuxSockets.Close(fd);
        }

        try
        {
            using var networkLock = NetworkLock.Open();
        }
        catch (NetworkLockException e)
        {
            return e.Message;
        }

        return null;
    }
}
