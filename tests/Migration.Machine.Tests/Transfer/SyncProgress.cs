using Migration.Core.Transfer;

namespace Migration.Machine.Tests.Transfer;

/// <summary>Records progress on the reporting thread (Progress&lt;T&gt; would post it later), and lets a test act on it.</summary>
internal sealed class SyncProgress(Action<MigrationProgress>? onReport = null) : IProgress<MigrationProgress>
{
    private readonly List<MigrationProgress> _reports = [];

    public IReadOnlyList<MigrationProgress> Reports
    {
        get
        {
            lock (_reports)
            {
                return [.. _reports];
            }
        }
    }

    public void Report(MigrationProgress value)
    {
        lock (_reports)
        {
            _reports.Add(value);
        }

        onReport?.Invoke(value);
    }
}
