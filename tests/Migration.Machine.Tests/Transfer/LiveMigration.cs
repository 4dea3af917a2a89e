using Migration.Core.Machines;
using Migration.Core.State;
using Migration.Core.Transfer;
using Migration.Machine.RiscV;

namespace Migration.Machine.Tests.Transfer;

/// <summary>Runs both ends of a migration over loopback TCP in-process.</summary>
internal static class LiveMigration
{
    public static async Task<(MigrationReport Report, RiscVMachine Destination)> RunAsync(
        RiscVMachine source,
        MigrationOptions? options = null,
        MigrationReceiveOptions? receive = null,
        Func<RestoredMachineState, IVirtualMachine>? build = null,
        Action<IVirtualMachine>? start = null,
        IProgress<MigrationProgress>? progress = null)
    {
        await using var link = await Loopback.ConnectAsync();
        var destination = MigrationDestination.ReceiveAsync(
            link.Destination, build ?? TransferSetup.Build(), start ?? TransferSetup.Start, receive ?? TransferSetup.Destination());
        MigrationReport report;
        try
        {
            report = await MigrationSource.MigrateAsync(source, link.Source, [], options ?? TransferSetup.Source(), progress).WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch
        {
            await destination.ContinueWith(t => t.Result.Dispose(), TaskContinuationOptions.OnlyOnRanToCompletion).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        return (report, (RiscVMachine)await destination.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
