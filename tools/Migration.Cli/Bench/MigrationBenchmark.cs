using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Migration.Cli.Demo;
using Migration.Core.Checkpoints;
using Migration.Core.Sockets;
using Migration.Core.Transfer;
using Migration.Host;
using Migration.Host.Api;
using Migration.Host.Client;
using Migration.Host.LiveMigration;
using Migration.Host.Vms;
using Migration.Machine.RiscV;

namespace Migration.Cli.Bench;

/// <summary>
/// An idle guest holding given contents, migrated over loopback from this process to a <c>migration host</c> daemon
/// in another — two processes, as QEMU's source and <c>-incoming</c> destination are — then checkpointed to a file
/// and resumed from it in this process. The peer comparison (benchmarks/peers/qemu.sh) runs QEMU on the same file.
/// </summary>
internal static class MigrationBenchmark
{
    private static readonly TimeSpan MigrationLimit = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan ApiLimit = TimeSpan.FromMinutes(1);

    /// <param name="downtime">The downtime target of our pre-copy policy (QEMU's downtime-limit).</param>
    public static async Task<MigrationBenchmarkResult> RunAsync(
        ulong memorySize, GuestMemoryImage? image, int runs, TimeSpan downtime, string workDirectory, Action<string> progress, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            // The destination daemon listens on a Unix socket and its secret file must be owner-only.
            throw new PlatformNotSupportedException("bench migrate runs on Linux");
        }

        var directory = Directory.CreateDirectory(Path.Combine(workDirectory, $"migration-bench-{Guid.NewGuid():N}")).FullName;
        try
        {
            var region = MemoryRegion.For(image, memorySize);
            var expected = ExpectedDigest(image, region);
            var secretFile = WriteSecret(directory);
            using var secret = HostSecret.Load(secretFile);
            using var destination = await DemoHost.StartAsync("destination", directory, secretFile, ["--network", "plain", "--quiet"], cancellationToken).ConfigureAwait(false);
            using var client = destination.Client();

            var total = new List<double>();
            var paused = new List<double>();
            var stopAndCopy = new List<double>();
            var bytes = new List<long>();
            string? lastId = null;

            // One unmeasured run first: the first use of every code path, in both processes, pays for JIT compilation.
            for (var run = -1; run < runs; run++)
            {
                // The previous run's VM goes first, so the daemon runs nothing else while it takes this one in.
                if (lastId is not null)
                {
                    await client.DeleteVmAsync(lastId, cancellationToken).WaitAsync(ApiLimit, cancellationToken).ConfigureAwait(false);
                }

                var report = await MigrateOnceAsync(memorySize, image, downtime, destination.MigrationEndpoint, secret.Key, run, expected, region, cancellationToken).ConfigureAwait(false);
                lastId = report.Id;
                if (run >= 0)
                {
                    total.Add(report.Report.TotalTime.TotalMilliseconds);
                    paused.Add(report.Report.GuestDowntime.TotalMilliseconds);
                    bytes.Add(report.Report.BytesSent);
                    stopAndCopy.Add(report.Report.Rounds.Where(r => r.StopAndCopy).Sum(r => r.Duration.TotalMilliseconds));
                    progress($"migration run {run + 1}/{runs}: total {report.Report.TotalTime.TotalMilliseconds:F1} ms, downtime {report.Report.GuestDowntime.TotalMilliseconds:F2} ms, {report.Report.BytesSent:N0} bytes");
                }
            }

            var arrived = await DestinationDigestAsync(client, lastId!, directory, region, cancellationToken).ConfigureAwait(false);
            if (arrived != expected)
            {
                throw new InvalidOperationException($"the memory that arrived at the destination differs from the source's: digest {arrived:x16}, expected {expected:x16}");
            }

            var (save, load, fileBytes) = await CheckpointAsync(memorySize, image, runs, directory, expected, region, progress).ConfigureAwait(false);
            var verification = $"bytes 0x{region.Offset:x}..0x{region.Offset + region.Length:x} of guest RAM have digest {expected:x16} at the destination daemon and in the resumed checkpoint" +
                (image is null ? " (all zero)" : " (the file's own)");
            return new MigrationBenchmarkResult(memorySize, image, total, paused, stopAndCopy, bytes, save, load, fileBytes, verification);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static ulong ExpectedDigest(GuestMemoryImage? image, MemoryRegion region) => image?.DigestOfFile() ?? region.ZeroDigest();

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static string WriteSecret(string directory)
    {
        var path = Path.Combine(directory, "secret");
        // The daemon refuses a secret file others can read: owner-only from the start.
        using var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
        stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))));
        return path;
    }

    private static async Task<(string Id, MigrationReport Report)> MigrateOnceAsync(
        ulong memorySize, GuestMemoryImage? image, TimeSpan downtime, string endpoint, ReadOnlyMemory<byte> secret, int run, ulong expected, MemoryRegion region, CancellationToken cancellationToken)
    {
        using var machine = CheckpointBenchmark.StartIdleGuest(memorySize);
        image?.Load(machine.Memory);
        if (region.DigestIn(machine.Memory) != expected)
        {
            throw new InvalidOperationException("the source's memory does not hold the contents it was given");
        }

        var spec = new VmSpec(VmId.New(), $"bench-{run + 1}", GuestImages.Find("idle"), [], DateTimeOffset.UtcNow, new PortMap());
        using var connection = new TcpClient();
        await connection.ConnectAsync(IPEndPoint.Parse(endpoint), cancellationToken).ConfigureAwait(false);
        var options = new MigrationOptions { Secret = secret, DowntimeTarget = downtime };
        var report = await MigrationSource.MigrateAsync(machine, connection.GetStream(), [MigratedVm.ToSection(spec)], options, cancellationToken: cancellationToken)
            .WaitAsync(MigrationLimit, cancellationToken).ConfigureAwait(false);
        return (spec.Id, report);
    }

    /// <summary>The daemon has no call that reads guest memory; a stop checkpoint of the VM there, read back here, shows what arrived.</summary>
    private static async Task<ulong> DestinationDigestAsync(ApiClient client, string id, string directory, MemoryRegion region, CancellationToken cancellationToken)
    {
        var saved = Path.Combine(directory, "arrived");
        var job = await client.CheckpointVmAsync(id, new CheckpointRequest(saved, Stop: true), cancellationToken).ConfigureAwait(false);
        job = await client.WaitForJobAsync(job.Id, cancellationToken: cancellationToken).WaitAsync(ApiLimit, cancellationToken).ConfigureAwait(false);
        if (job.State != JobState.Succeeded || job.Result is not { } result)
        {
            throw new InvalidOperationException($"the destination daemon could not checkpoint {id}: {job.Error}");
        }

        var file = result.Deserialize(HostJsonContext.Default.CheckpointJobResult)!.File;
        var resumed = await RiscVCheckpoint.ResumeFileAsync(file, new MachineOptions(), cancellationToken).ConfigureAwait(false);
        using var machine = resumed.Machine;
        return region.DigestIn(machine.Memory);
    }

    private static async Task<(List<double> Save, List<double> Load, long FileBytes)> CheckpointAsync(
        ulong memorySize, GuestMemoryImage? image, int runs, string directory, ulong expected, MemoryRegion region, Action<string> progress)
    {
        var save = new List<double>();
        var load = new List<double>();
        long fileBytes = 0;
        for (var run = -1; run < runs; run++)
        {
            var checkpoints = new CheckpointDirectory(Path.Combine(directory, $"checkpoint-{run + 1}"));
            using (var machine = CheckpointBenchmark.StartIdleGuest(memorySize))
            {
                image?.Load(machine.Memory);
                var started = Stopwatch.GetTimestamp();
                var written = await checkpoints.WriteAsync(machine).ConfigureAwait(false);
                var saveElapsed = Stopwatch.GetElapsedTime(started);
                machine.Terminate();

                var resumeStarted = Stopwatch.GetTimestamp();
                var resumed = await RiscVCheckpoint.ResumeFileAsync(written.Path!, new MachineOptions()).ConfigureAwait(false);
                resumed.Machine.Start();
                var loadElapsed = Stopwatch.GetElapsedTime(resumeStarted);
                using (resumed.Machine)
                {
                    if (region.DigestIn(resumed.Machine.Memory) != expected)
                    {
                        throw new InvalidOperationException($"the guest resumed from {written.Path} does not hold the contents it was checkpointed with");
                    }
                }

                if (run >= 0)
                {
                    fileBytes = new FileInfo(written.Path!).Length;
                    save.Add(saveElapsed.TotalMilliseconds);
                    load.Add(loadElapsed.TotalMilliseconds);
                    progress($"checkpoint run {run + 1}/{runs}: save {saveElapsed.TotalMilliseconds:F1} ms, resume {loadElapsed.TotalMilliseconds:F1} ms, {fileBytes:N0} bytes");
                }
            }

            Directory.Delete(checkpoints.Path, recursive: true);
        }

        return (save, load, fileBytes);
    }
}
