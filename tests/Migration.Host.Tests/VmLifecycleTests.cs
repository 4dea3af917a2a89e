using System.Text;
using Migration.Host.Api;
using Migration.Machine.RiscV;
using Migration.Machine.Tests.Guests;

namespace Migration.Host.Tests;

/// <summary>VMs through the API as the CLI drives it: create, run to exit, console, pause/resume/delete, and the refusals.</summary>
public sealed class VmLifecycleTests
{
    private const ulong Memory = 64UL << 20;

    [Fact]
    public async Task Counter_runs_to_exit_and_its_console_followed_from_the_start_is_exactly_its_output()
    {
        await using var host = await TestDaemon.StartAsync();
        var created = await host.Client.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("counter"), Memory, Args: ["4", "1000000"]));
        Assert.StartsWith("vm-", created.Id, StringComparison.Ordinal);
        Assert.Equal("counter", created.Name);
        Assert.Equal(Memory, created.Memory);

        // Follow as `vm console --follow` does: long polls from the last offset until the VM has ended.
        var output = new MemoryStream();
        var offset = 0L;
        for (var polls = 0; ; polls++)
        {
            Assert.True(polls < 1000, "the console never reported its end");
            var chunk = await host.Client.ReadConsoleAsync(created.Id, offset, wait: true);
            Assert.Equal(offset, chunk.Offset);
            Assert.Equal(0, chunk.Missed);
            output.Write(chunk.Data);
            offset = chunk.NextOffset;
            if (chunk.Ended)
            {
                break;
            }
        }

        var expected = CounterReference.Output(4, 1_000_000);
        Assert.Equal(expected, Encoding.ASCII.GetString(output.ToArray()));

        var shown = await host.Client.GetVmAsync(created.Id);
        Assert.Equal(VmState.Exited, shown.State);
        Assert.NotNull(shown.Exit);
        Assert.Equal(MachineExitKind.Exited, shown.Exit.Kind);
        Assert.Equal(0, shown.Exit.Code);
        Assert.Equal(expected.Length, shown.ConsoleBytes);

        // A one-shot read of the whole console, as `vm console` without --follow does, gives the same bytes.
        var whole = await host.Client.ReadConsoleAsync(created.Id, 0, wait: false);
        Assert.Equal(expected, Encoding.ASCII.GetString(whole.Data));
        Assert.True(whole.Ended);

        // An exited VM keeps its record but cannot be paused.
        var refused = await Assert.ThrowsAsync<ApiException>(() => host.Client.PauseVmAsync(created.Id));
        Assert.Equal(409, refused.Status);
        Assert.Equal($"{created.Id} has exited with code 0: it cannot be paused", refused.Message);
    }

    [Fact]
    public async Task Pause_resume_and_delete_change_the_state_and_a_second_pause_is_a_conflict()
    {
        await using var host = await TestDaemon.StartAsync();
        var vm = await host.Client.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("idle"), Memory));
        await Eventually.UntilAsync(
            () => host.Client.ReadConsoleAsync(vm.Id, 0, wait: true),
            chunk => Encoding.ASCII.GetString(chunk.Data) == "idle: ready\n",
            "idle prints its ready line");

        Assert.Equal(VmState.Paused, (await host.Client.PauseVmAsync(vm.Id)).State);
        Assert.Equal(VmState.Paused, (await host.Client.GetVmAsync(vm.Id)).State);
        var twice = await Assert.ThrowsAsync<ApiException>(() => host.Client.PauseVmAsync(vm.Id));
        Assert.Equal(409, twice.Status);
        Assert.Equal($"{vm.Id} is already paused", twice.Message);

        Assert.Equal(VmState.Running, (await host.Client.ResumeVmAsync(vm.Id)).State);
        var resumeRunning = await Assert.ThrowsAsync<ApiException>(() => host.Client.ResumeVmAsync(vm.Id));
        Assert.Equal(409, resumeRunning.Status);
        Assert.Equal($"{vm.Id} is not paused", resumeRunning.Message);

        Assert.Contains(await host.Client.ListVmsAsync(), v => v.Id == vm.Id && v.State == VmState.Running);
        await host.Client.DeleteVmAsync(vm.Id);
        Assert.DoesNotContain(await host.Client.ListVmsAsync(), v => v.Id == vm.Id);
        Assert.Equal(404, (await Assert.ThrowsAsync<ApiException>(() => host.Client.GetVmAsync(vm.Id))).Status);
    }

    [Fact]
    public async Task An_unknown_id_is_404_on_every_vm_route()
    {
        await using var host = await TestDaemon.StartAsync();
        const string id = "vm-000000";
        var calls = new Func<Task>[]
        {
            () => host.Client.GetVmAsync(id),
            () => host.Client.PauseVmAsync(id),
            () => host.Client.ResumeVmAsync(id),
            () => host.Client.DeleteVmAsync(id),
            () => host.Client.ReadConsoleAsync(id, 0, wait: false),
            () => host.Client.CheckpointVmAsync(id, new CheckpointRequest(host.Directory)),
            () => host.Client.GetJobAsync("job-000000"),
        };
        foreach (var call in calls)
        {
            var e = await Assert.ThrowsAsync<ApiException>(call);
            Assert.Equal(404, e.Status);
            Assert.Matches("^no (VM vm|job job)-000000 on this host$", e.Message);
        }
    }

    [Fact]
    public async Task A_refused_elf_is_422_with_the_loader_reason_and_leaves_no_vm()
    {
        await using var host = await TestDaemon.StartAsync();
        var missing = Path.Combine(host.Directory, "missing.elf");
        var e = await Assert.ThrowsAsync<ApiException>(() => host.Client.CreateVmAsync(new CreateVmRequest(missing)));
        Assert.Equal(422, e.Status);
        Assert.Equal($"{missing}: no such file", e.Message);

        var text = Path.Combine(host.Directory, "text.elf");
        await File.WriteAllTextAsync(text, "not an executable\n");
        e = await Assert.ThrowsAsync<ApiException>(() => host.Client.CreateVmAsync(new CreateVmRequest(text)));
        Assert.Equal(422, e.Status);
        Assert.Equal($"{text}: not an ELF file (bad magic)", e.Message);
        Assert.Empty(await host.Client.ListVmsAsync());
    }

    [Theory]
    [InlineData(null, 64UL << 20, null, "guest: give the path of a RISC-V ELF file")]
    [InlineData("counter", 1000UL, null, "memory: 1000 bytes is not a whole number of 4 KiB pages between 1 MiB and 64 GiB")]
    [InlineData("counter", 64UL << 20, "6379", "ports: '6379' is not GUEST:HOST or GUEST:ADDR:HOST")]
    [InlineData("counter", 64UL << 20, "0:80", "ports: '0:80': the guest port is 1..65535 and the host port 0..65535 (0: the host picks one)")]
    [InlineData("counter", 64UL << 20, "1:2:3", "ports: '1:2:3': '2' is not an IPv4 address")]
    public async Task A_malformed_create_request_is_400_with_one_line_naming_the_field(string? guest, ulong memory, string? port, string detail)
    {
        await using var host = await TestDaemon.StartAsync();
        var request = new CreateVmRequest(guest is null ? null : RepositoryPaths.Guest(guest), memory, port is null ? null : [port]);
        var e = await Assert.ThrowsAsync<ApiException>(() => host.Client.CreateVmAsync(request));
        Assert.Equal(400, e.Status);
        Assert.Equal(detail, e.Message);
    }

    [Fact]
    public async Task Host_describes_itself_and_migrate_answers_501_until_an_engine_is_plugged_in()
    {
        await using var host = await TestDaemon.StartAsync();
        var vm = await host.Client.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("idle"), Memory, Name: "quiet one"));
        var info = await host.Client.GetHostAsync();
        Assert.Equal("test-host", info.Name);
        Assert.Equal(1, info.Vms);
        Assert.Equal(host.Daemon.Api.ToString(), info.Api);
        Assert.Equal(Environment.ProcessId, info.ProcessId);
        Assert.False(string.IsNullOrEmpty(info.Version));
        Assert.Equal("quiet one", (await host.Client.GetVmAsync(vm.Id)).Name);

        var e = await Assert.ThrowsAsync<ApiException>(() => host.Client.MigrateVmAsync(vm.Id, new MigrateVmRequest("127.0.0.1:7000")));
        Assert.Equal(501, e.Status);
        Assert.Empty(await host.Client.ListJobsAsync());
    }

    [Fact]
    public async Task Stopping_the_daemon_answers_a_waiting_console_poll_at_once_and_terminates_its_vms()
    {
        var host = await TestDaemon.StartAsync(consoleWait: TimeSpan.FromMinutes(5));
        try
        {
            var vm = await host.Client.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("idle"), Memory));
            var ready = await Eventually.UntilAsync(
                () => host.Client.ReadConsoleAsync(vm.Id, 0, wait: true), chunk => chunk.NextOffset > 0, "idle prints its ready line");
            var poll = host.Client.ReadConsoleAsync(vm.Id, ready.NextOffset, wait: true);
            // The stop must find the poll waiting inside the daemon, not still on its way there.
            var console = host.Daemon.Vms.Get(vm.Id).Console;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (console.Waiting == 0 && !poll.IsCompleted && DateTime.UtcNow < deadline)
            {
                await Task.Delay(1);
            }

            Assert.False(poll.IsCompleted, "idle prints nothing more, so the poll waits");
            Assert.Equal(1, console.Waiting);

            var stop = System.Diagnostics.Stopwatch.StartNew();
            await host.Daemon.StopAsync();
            Assert.True(stop.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {stop.Elapsed}");
            var chunk = await poll.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Empty(chunk.Data);
            Assert.Equal(0, host.Daemon.Vms.Count);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}
