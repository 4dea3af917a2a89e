using Migration.Networking.Repair;

namespace Migration.Machine.Tests.Continuity;

/// <summary>
/// Holds this test process's place in the shared lock table while the collection runs, and leaves it afterwards: the
/// table is removed then unless another host still uses it, so the tests leave no firewall rules behind.
/// </summary>
public sealed class LockTableLease : IDisposable
{
    private readonly NetworkLock? _lock;

    public LockTableLease()
    {
        if (RepairSupport.Probe() is null)
        {
            _lock = NetworkLock.Open();
            _lock.Join();
        }
    }

    public void Dispose() => _lock?.LeaveAndDispose();
}
