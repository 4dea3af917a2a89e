namespace Migration.Host.Vms;

/// <summary>A held VM control lock (<see cref="HostedVm.AcquireControlAsync"/>); disposing releases it, once.</summary>
internal sealed class ControlLease(SemaphoreSlim gate) : IDisposable
{
    private int _released;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            gate.Release();
        }
    }
}
