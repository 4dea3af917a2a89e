using Migration.Host.Api;
using Xunit.Abstractions;

namespace Migration.Host.Tests.Faults;

/// <summary>
/// A checkpoint written into a directory whose file system fills up (a 1 MiB tmpfs the test mounts, so root only): one
/// line says so, the VM runs on, no partial file is left and the previous checkpoint there is untouched.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class CheckpointDiskFullTests(ITestOutputHelper output) : IDisposable
{
    private const int FillLimit = 1024;
    private readonly string _directory = Directory.CreateTempSubdirectory("migration-diskfull-").FullName;
    private string? _mounted;

    [Fact]
    public async Task A_full_disk_fails_the_checkpoint_in_one_line_and_keeps_the_vm_and_the_previous_checkpoint()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            output.WriteLine("skipped: mounting a small tmpfs needs root");
            return;
        }

        var full = Path.Combine(_directory, "small");
        Directory.CreateDirectory(full);
        var (mountCode, _, mountError) = await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", full]);
        Assert.True(mountCode == 0, $"mount exited {mountCode}: {mountError}");
        _mounted = full;

        var secret = TestDaemon.WriteSecret(_directory, "a secret of at least sixteen bytes", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var host = await DaemonProcess.StartAsync("a", _directory, secret, null, "127.0.0.1", "--network", "plain");
        using var client = host.Client();
        var vm = await client.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("counter"), 16UL << 20, Args: ["100000", "5000"]));
        await Eventually.UntilAsync(() => client.GetVmAsync(vm.Id), v => v.ConsoleBytes > 0, "the counter runs");
        var first = await client.WaitForJobAsync((await client.CheckpointVmAsync(vm.Id, new CheckpointRequest(full))).Id);
        Assert.True(first.State == JobState.Succeeded, first.Error);
        var previous = Assert.Single(Directory.GetFiles(full, "*.mck"));
        var previousBytes = await File.ReadAllBytesAsync(previous);
        FillUp(Path.Combine(full, "filler"));

        var (code, stdout, error) = await ProcessRunner.CliAsync("vm", "checkpoint", "--api", host.Api, vm.Id, "--dir", full, "--incremental");

        output.WriteLine(error);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.StartsWith($"migration: checkpoint to {full}: No space left on device", error, StringComparison.Ordinal);
        Assert.Equal(1, error.Count(c => c == '\n'));
        Assert.Equal([previous, Path.Combine(full, "filler")], Directory.GetFiles(full).Order(StringComparer.Ordinal));
        Assert.Equal(previousBytes, await File.ReadAllBytesAsync(previous));
        var (inspectCode, _, inspectError) = await ProcessRunner.CliAsync("inspect", previous);
        Assert.True(inspectCode == 0, inspectError);
        var after = await client.GetVmAsync(vm.Id);
        Assert.Equal(VmState.Running, after.State);
        await Eventually.UntilAsync(() => client.GetVmAsync(vm.Id), v => v.ConsoleBytes > after.ConsoleBytes, "the counter runs on");

        // Space again: the next checkpoint succeeds (a full one, since the failed one broke the incremental chain).
        File.Delete(Path.Combine(full, "filler"));
        var next = await client.WaitForJobAsync((await client.CheckpointVmAsync(vm.Id, new CheckpointRequest(full, Incremental: true))).Id);
        Assert.True(next.State == JobState.Succeeded, next.Error);
    }

    /// <summary>Writes until the file system says it is full (bounded: the tmpfs is 1 MiB).</summary>
    private static void FillUp(string path)
    {
        var chunk = new byte[4096];
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        for (var i = 0; i < FillLimit; i++)
        {
            try
            {
                file.Write(chunk);
            }
            catch (IOException)
            {
                return;
            }
        }

        Assert.Fail($"{path}: {FillLimit} chunks of 4 KiB fitted in a 1 MiB file system");
    }

    public void Dispose()
    {
        if (_mounted is not null)
        {
            ProcessRunner.RunAsync("umount", [_mounted]).GetAwaiter().GetResult();
        }

        Directory.Delete(_directory, recursive: true);
    }
}
