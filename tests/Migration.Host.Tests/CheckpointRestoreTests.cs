using System.Text.Json;
using Migration.Host.Api;

namespace Migration.Host.Tests;

/// <summary>Checkpoint jobs and restore through the API: the kv guest keeps its keys across delete and restore.</summary>
public sealed class CheckpointRestoreTests
{
    private const ulong Memory = 64UL << 20;

    [Fact]
    public async Task A_kv_vm_checkpointed_deleted_and_restored_still_holds_its_keys()
    {
        await using var host = await TestDaemon.StartAsync();
        var client = host.Client;
        var kv = await client.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("kv"), Memory, ["6379:0"]));
        var mapping = Assert.Single(kv.Ports);
        Assert.Equal(new VmPortInfo(6379, null, "127.0.0.1:0", null), mapping);
        var port = await ListeningPortAsync(host, kv.Id);

        Assert.Equal("OK", await KvClient.CommandAsync(port, "SET", "greeting", "hello"));
        var directory = Path.Combine(host.Directory, "checkpoints");
        var full = await CheckpointAsync(host, kv.Id, new CheckpointRequest(directory));
        Assert.False(full.Incremental);
        Assert.Equal(0, full.Sequence);
        Assert.Null(full.Note);
        Assert.True(File.Exists(full.File), full.File);
        Assert.Equal(directory, Path.GetDirectoryName(full.File));

        Assert.Equal("OK", await KvClient.CommandAsync(port, "SET", "later", "x"));
        var incremental = await CheckpointAsync(host, kv.Id, new CheckpointRequest(directory, Incremental: true));
        Assert.True(incremental.Incremental);
        Assert.Equal(1, incremental.Sequence);
        Assert.Equal(full.Digest, incremental.Parent);

        // Deleting frees the VM's listener along with everything else; the restored VM then has a port of its own.
        await client.DeleteVmAsync(kv.Id);
        var restored = await client.RestoreVmAsync(new RestoreVmRequest(incremental.File, ["6379:0"]));
        Assert.NotEqual(kv.Id, restored.Id);
        Assert.Equal(incremental.File, restored.RestoredFrom);
        Assert.Null(restored.Guest);
        Assert.Equal(Memory, restored.Memory);
        var restoredPort = await ListeningPortAsync(host, restored.Id);

        Assert.Equal("hello", await KvClient.CommandAsync(restoredPort, "GET", "greeting"));
        Assert.Equal("x", await KvClient.CommandAsync(restoredPort, "GET", "later"));
        Assert.Equal("OK", await KvClient.CommandAsync(restoredPort, "SET", "after", "restore"));
        Assert.Equal(VmState.Running, (await client.GetVmAsync(restored.Id)).State);

        // Console offsets carry on from the checkpoint: the restored VM's output starts where the original's was.
        var console = await client.ReadConsoleAsync(restored.Id, 0, wait: false);
        Assert.Equal(console.Offset, console.Missed);
        Assert.True(console.Offset > 0, "the kv banner was written before the checkpoint");
    }

    [Fact]
    public async Task A_stop_checkpoint_removes_the_vm_once_the_file_is_written_and_a_restore_carries_on_from_it()
    {
        await using var host = await TestDaemon.StartAsync();
        var client = host.Client;
        var kv = await client.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("kv"), Memory, ["6379:0"]));
        var port = await ListeningPortAsync(host, kv.Id);
        Assert.Equal("OK", await KvClient.CommandAsync(port, "SET", "greeting", "hello"));

        var saved = await CheckpointAsync(host, kv.Id, new CheckpointRequest(Path.Combine(host.Directory, "stop"), Stop: true));
        Assert.True(File.Exists(saved.File), saved.File);
        var gone = await Assert.ThrowsAsync<ApiException>(() => client.GetVmAsync(kv.Id));
        Assert.Equal(404, gone.Status);

        var restored = await client.RestoreVmAsync(new RestoreVmRequest(saved.File, ["6379:0"]));
        Assert.Equal("hello", await KvClient.CommandAsync(await ListeningPortAsync(host, restored.Id), "GET", "greeting"));
    }

    [Fact]
    public async Task Incremental_without_an_earlier_checkpoint_writes_a_full_one_and_says_why()
    {
        await using var host = await TestDaemon.StartAsync();
        var idle = await host.Client.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("idle"), Memory));
        var result = await CheckpointAsync(host, idle.Id, new CheckpointRequest(Path.Combine(host.Directory, "a"), Incremental: true));
        Assert.False(result.Incremental);
        Assert.Equal("no earlier checkpoint of this VM: wrote a full one", result.Note);

        var elsewhere = await CheckpointAsync(host, idle.Id, new CheckpointRequest(Path.Combine(host.Directory, "b"), Incremental: true));
        Assert.False(elsewhere.Incremental);
        Assert.StartsWith("the previous checkpoint is in ", elsewhere.Note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refusals_a_finished_vm_is_409_an_unwritable_directory_fails_the_job_and_a_corrupt_file_is_422()
    {
        await using var host = await TestDaemon.StartAsync();
        var client = host.Client;
        var counter = await client.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("counter"), Memory, Args: ["1", "1000"]));
        await Eventually.UntilAsync(() => client.GetVmAsync(counter.Id), vm => vm.State == VmState.Exited, "counter exits");
        var finished = await Assert.ThrowsAsync<ApiException>(() => client.CheckpointVmAsync(counter.Id, new CheckpointRequest(host.Directory)));
        Assert.Equal(409, finished.Status);
        Assert.Equal($"{counter.Id} has exited with code 0: it cannot be checkpointed", finished.Message);

        var idle = await client.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("idle"), Memory));
        var blocker = Path.Combine(host.Directory, "a-file");
        await File.WriteAllTextAsync(blocker, "");
        var job = await client.CheckpointVmAsync(idle.Id, new CheckpointRequest(Path.Combine(blocker, "sub")));
        var failed = await client.WaitForJobAsync(job.Id).WaitAsync(Eventually.DefaultTimeout);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal(422, failed.ErrorStatus);
        Assert.StartsWith($"checkpoint directory {Path.Combine(blocker, "sub")}: ", failed.Error, StringComparison.Ordinal);
        Assert.Equal(VmState.Running, (await client.GetVmAsync(idle.Id)).State);

        var corrupt = Path.Combine(host.Directory, "000000-0000000000000000.mck");
        await File.WriteAllBytesAsync(corrupt, new byte[64]);
        var refused = await Assert.ThrowsAsync<ApiException>(() => client.RestoreVmAsync(new RestoreVmRequest(corrupt)));
        Assert.Equal(422, refused.Status);
        Assert.StartsWith($"{corrupt}: not a migration stream", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await client.ListVmsAsync()).Count);
    }

    private static async Task<CheckpointJobResult> CheckpointAsync(TestDaemon host, string id, CheckpointRequest request)
    {
        var job = await host.Client.CheckpointVmAsync(id, request);
        Assert.Equal("checkpoint", job.Kind);
        Assert.Equal(id, job.VmId);
        var final = await host.Client.WaitForJobAsync(job.Id).WaitAsync(Eventually.DefaultTimeout);
        Assert.True(final.State == JobState.Succeeded, $"checkpoint job {final.State}: {final.Error}");
        Assert.Equal(1, final.Fraction);
        return final.Result!.Value.Deserialize(HostJsonContext.Default.CheckpointJobResult)!;
    }

    /// <summary>The host port the guest's listener got (the VM's port list), once kv answers on it.</summary>
    private static async Task<int> ListeningPortAsync(TestDaemon host, string id)
    {
        var vm = await Eventually.UntilAsync(
            () => host.Client.GetVmAsync(id),
            v => v.Ports.Any(p => p is { GuestPort: 6379, Protocol: "tcp", Host: not null }),
            $"{id} binds guest port 6379");
        var port = System.Net.IPEndPoint.Parse(vm.Ports.Single(p => p.Protocol == "tcp").Host!).Port;

        // Bound precedes listen by a few instructions: connect until the listener takes it, then check it is kv.
        await Eventually.UntilAsync(
            async () =>
            {
                using var probe = new System.Net.Sockets.TcpClient();
                try
                {
                    await probe.ConnectAsync(System.Net.IPAddress.Loopback, port);
                    return "connected";
                }
                catch (System.Net.Sockets.SocketException e)
                {
                    return e.Message;
                }
            },
            reply => reply == "connected",
            $"{id} listens on port {port}");
        Assert.Equal("PONG", await KvClient.CommandAsync(port, "PING"));
        return port;
    }
}
