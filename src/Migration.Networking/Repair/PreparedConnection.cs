namespace Migration.Networking.Repair;

/// <summary>A re-created connection still in repair mode: invisible to its peer until activated, silent if closed.</summary>
internal sealed class PreparedConnection(int fd) : IDisposable
{
    private int _fd = fd;

    /// <summary>Hands the descriptor over; this object no longer closes it.</summary>
    public int Take() => Interlocked.Exchange(ref _fd, -1);

    public void Dispose()
    {
        var fd = Take();
        if (fd >= 0)
        {
            LinuxSockets.Close(fd);
        }
    }
}
