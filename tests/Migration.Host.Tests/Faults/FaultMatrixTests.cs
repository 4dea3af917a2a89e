using System.Globalization;
using System.Text;
using Migration.Core.Transfer;
using Migration.Host.Api;
using Migration.Host.Client;
using Migration.Machine.Tests.Guests;
using Xunit.Abstractions;

namespace Migration.Host.Tests.Faults;

/// <summary>
/// kill -9 of either host at each phase of a live migration between two real daemons, through the fault points
/// (<see cref="FaultPoint"/>): the dying daemon SIGKILLs itself at exactly that point. The guest is the counter, whose
/// console output proves that the machine that runs on afterwards — wherever it is — lost and repeated nothing. One
/// subclass per side, so that the two halves of the matrix run side by side.
/// </summary>
public abstract class FaultMatrixTests(ITestOutputHelper output) : IDisposable
{
    private const int Rounds = 3000;
    private const int Steps = 5000;
    private const int SigKill = 137;
    private static readonly Lazy<string> Reference = new(() => CounterReference.Output(Rounds, Steps));
    private static readonly TimeSpan GuestLimit = TimeSpan.FromSeconds(90);
    private readonly string _directory = Directory.CreateTempSubdirectory("migration-faults-").FullName;

    public static TheoryData<string> Phases() => new("setup", "round-0", "round-1", "stop-and-copy", "after-commit");

    /// <summary>"source" or "destination": the host that is killed.</summary>
    protected abstract string Side { get; }

    [Theory]
    [MemberData(nameof(Phases))]
    public async Task Killed_at_any_phase_the_vm_is_left_in_at_most_one_place_with_its_exact_output(string phase)
    {
        var side = Side;
        var secret = TestDaemon.WriteSecret(_directory, "the same secret on both hosts", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var fault = new Dictionary<string, string> { [FaultPoint.Variable] = $"{side}:{phase}" };
        var none = new Dictionary<string, string>();
        using var a = await DaemonProcess.StartWithEnvironmentAsync("a", _directory, secret, side == "source" ? fault : none, "--network", "plain");
        using var b = await DaemonProcess.StartWithEnvironmentAsync("b", _directory, secret, side == "destination" ? fault : none, "--network", "plain");
        using var clientA = a.Client();
        using var clientB = b.Client();
        var vm = await clientA.CreateVmAsync(new CreateVmRequest(
            RepositoryPaths.Guest("counter"), 16UL << 20, Args: [Rounds.ToString(CultureInfo.InvariantCulture), Steps.ToString(CultureInfo.InvariantCulture)]));
        await Eventually.UntilAsync(() => ConsoleTextAsync(clientA, vm.Id), text => text.Contains("round 10/", StringComparison.Ordinal), "the counter runs");
        var (victim, survivor) = side == "source" ? (a, b) : (b, a);
        var baseline = ProcessResources.Threads(survivor.ProcessId);

        // A downtime target no round meets keeps the guest in pre-copy for several rounds, so that round 1 exists; the
        // other phases take the default, so the migration reaches them long before the guest ends.
        var job = await clientA.MigrateVmAsync(vm.Id, new MigrateVmRequest(b.MigrationEndpoint, DowntimeMilliseconds: phase == "round-1" ? 0.001 : null));

        Assert.Equal(SigKill, await victim.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        if (side == "destination")
        {
            output.WriteLine($"destination killed at {phase}; job: {(await clientA.WaitForJobAsync(job.Id)).Error}");
        }
        Assert.Contains($"fault injection: {side}:{phase} reached", victim.Log, StringComparison.Ordinal);
        switch (side, phase)
        {
            case ("destination", "after-commit"):
                await HeldThenResumedByForceAsync(a, clientA, job.Id, vm.Id);
                await Leftovers.AssertNoneAsync(a, b.MigrationPort, baseline, vcpus: 0, _directory);
                break;
            case ("destination", _):
                await RolledBackAsync(clientA, job.Id, vm.Id);
                await Leftovers.AssertNoneAsync(a, b.MigrationPort, baseline, vcpus: 0, _directory);
                break;
            case ("source", "after-commit"):
                await TakenOverAsync(clientB, vm.Id);
                await Leftovers.AssertNoneAsync(b, b.MigrationPort, baseline, vcpus: 0, _directory);
                break;
            default:
                await DiscardedAsync(b, clientB);
                await Leftovers.AssertNoneAsync(b, b.MigrationPort, baseline, vcpus: 0, _directory);
                break;
        }
    }

    /// <summary>Before Commit the source still owns the guest: it runs on there, from where it was, to its exact end.</summary>
    private static async Task RolledBackAsync(ApiClient source, string jobId, string vmId)
    {
        var job = await source.WaitForJobAsync(jobId);
        Assert.Equal(JobState.Failed, job.State);
        Assert.StartsWith($"{vmId}: ", job.Error, StringComparison.Ordinal);
        Assert.True(job.Error!.Contains("rolled back", StringComparison.Ordinal) && job.Error.Contains("keeps running here", StringComparison.Ordinal), job.Error);
        Assert.DoesNotContain('\n', job.Error);
        var vm = await source.GetVmAsync(vmId);
        Assert.Null(vm.Unresolved);
        Assert.NotEqual(VmState.Paused, vm.State);
        await RunsToItsExactEndAsync(source, vmId, fromStart: true);
    }

    /// <summary>
    /// Commit was sent and the destination died before it said it took over: the source cannot know, so it holds its
    /// paused copy, says so, refuses a plain resume, and runs on to the exact end after vm resume --force.
    /// </summary>
    private static async Task HeldThenResumedByForceAsync(DaemonProcess host, ApiClient source, string jobId, string vmId)
    {
        var job = await source.WaitForJobAsync(jobId);
        Assert.Equal(JobState.Failed, job.State);
        Assert.True(job.Error!.Contains("outcome is unknown", StringComparison.Ordinal) && job.Error.Contains($"vm resume --force {vmId}", StringComparison.Ordinal), job.Error);
        var held = await source.GetVmAsync(vmId);
        Assert.Equal(VmState.Paused, held.State);
        Assert.Contains($"vm resume --force {vmId}", held.Unresolved, StringComparison.Ordinal);
        var instructions = held.InstructionsRetired;

        var refused = await Assert.ThrowsAsync<ApiException>(() => source.ResumeVmAsync(vmId));
        Assert.Equal(409, refused.Status);
        Assert.Contains("is held", refused.Message, StringComparison.Ordinal);
        var migrateAgain = await Assert.ThrowsAsync<ApiException>(() => source.MigrateVmAsync(vmId, new MigrateVmRequest("127.0.0.1:1")));
        Assert.Equal(409, migrateAgain.Status);
        Assert.Equal(instructions, (await source.GetVmAsync(vmId)).InstructionsRetired);

        var (code, output, error) = await ProcessRunner.CliAsync("vm", "resume", "--api", host.Api, vmId, "--force");
        Assert.True(code == 0, $"vm resume --force exited {code}: {error}");
        Assert.Equal($"{vmId} running\n", output);
        Assert.Null((await source.GetVmAsync(vmId)).Unresolved);
        await RunsToItsExactEndAsync(source, vmId, fromStart: true);
    }

    /// <summary>After Commit the destination owns the guest: with the source dead, it runs on there to the exact end.</summary>
    private static async Task TakenOverAsync(ApiClient destination, string vmId)
    {
        await Eventually.UntilAsync(() => destination.ListVmsAsync(), vms => vms.Any(v => v.Id == vmId), "the destination lists the VM");
        await RunsToItsExactEndAsync(destination, vmId, fromStart: false);
    }

    /// <summary>A source that dies before Commit takes its guest with it, as any crashed host does; the destination keeps nothing.</summary>
    private static async Task DiscardedAsync(DaemonProcess host, ApiClient destination)
    {
        await Eventually.UntilAsync(
            () => Task.FromResult(host.Log), log => log.Contains("incoming migration from", StringComparison.Ordinal), "the destination reports the failed incoming migration");
        Assert.Empty(await destination.ListVmsAsync());
    }

    private static async Task RunsToItsExactEndAsync(ApiClient client, string vmId, bool fromStart)
    {
        var done = await Eventually.UntilAsync(() => client.GetVmAsync(vmId), v => v.State is VmState.Exited or VmState.Faulted, "the counter ends", GuestLimit);
        Assert.Equal(0, done.Exit!.Code);
        var chunk = await client.ReadConsoleAsync(vmId, 0, wait: false);
        var text = Encoding.UTF8.GetString(chunk.Data);
        if (fromStart)
        {
            Assert.Equal(0, chunk.Offset);
            Assert.Equal(Reference.Value, text);
        }
        else
        {
            // The destination's console starts where it took over: that much of the uninterrupted output, to the byte.
            Assert.InRange(chunk.Offset, 1, Reference.Value.Length - 1);
            Assert.Equal(Reference.Value[(int)chunk.Offset..], text);
        }
    }

    private static async Task<string> ConsoleTextAsync(ApiClient client, string id) =>
        Encoding.UTF8.GetString((await client.ReadConsoleAsync(id, 0, wait: false)).Data);

    public void Dispose()
    {
        Directory.Delete(_directory, recursive: true);
        GC.SuppressFinalize(this);
    }
}
