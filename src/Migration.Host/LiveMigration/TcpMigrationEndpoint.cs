using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Migration.Core.Sockets;
using Migration.Core.State;
using Migration.Core.Transfer;
using Migration.Host.Api;
using Migration.Host.Jobs;
using Migration.Host.Vms;
using Migration.Machine.RiscV;
using Migration.Machine.RiscV.State;

namespace Migration.Host.LiveMigration;

/// <summary>
/// Live migration between daemons over TCP with the transfer engine (Migration.Core/Transfer, PROTOCOL.md): a listener
/// that takes VMs in, and the body of the migrate job that sends one out. The VM keeps its id on the destination.
/// </summary>
/// <remarks>
/// The listener binds the loopback address: the hosts this toolkit migrates between share a machine or reach each
/// other through network namespaces the project sets up, and nothing here should listen on interfaces it was not asked to.
/// </remarks>
public sealed class TcpMigrationEndpoint : IMigrationEndpoint
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _incoming = [];
    private readonly Lock _gate = new();
    private TcpListener? _listener;
    private Task _accepting = Task.CompletedTask;
    private MigrationContext? _context;
    private ILogger _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public IPAddress ListenAddress { get; init; } = IPAddress.Loopback;

    /// <summary>
    /// Bounds every wait on a peer, both ways: authentication, a round's acknowledgement, the hand-over, and a stream
    /// that moves no bytes with the connection open (a hung peer or a link that drops everything).
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public Task<int> StartAsync(MigrationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _logger = context.LoggerFactory.CreateLogger<TcpMigrationEndpoint>();
        RiscVStateSections.WarmUp();
        _listener = new TcpListener(ListenAddress, context.Port);
        try
        {
            _listener.Start();
        }
        catch (SocketException e)
        {
            _listener = null;
            var reason = e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "the port is in use (another process listens there)" : e.Message;
            throw new HostConfigurationException(
                $"cannot listen for migrations on {ListenAddress}:{context.Port}: {reason}; give another --migration-port, or 0 for one the system picks", e);
        }

        var local = (IPEndPoint)_listener.LocalEndpoint;
        var listening = local.ToString();
        Log.MigrationListening(_logger, listening);
        var port = local.Port;
        _accepting = Task.Run(() => AcceptLoopAsync(_listener, _stopping.Token), CancellationToken.None);
        return Task.FromResult(port);
    }

    public void Validate(HostedVm vm, MigrateVmRequest request)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(request);
        _ = ParseDestination(request.To);
        if (request.DowntimeMilliseconds is <= 0 or > 3_600_000)
        {
            throw ApiException.BadRequest($"downtimeMilliseconds: {request.DowntimeMilliseconds} is outside (0, 3600000]");
        }

        if (request.MaxBandwidth is <= 0)
        {
            throw ApiException.BadRequest($"maxBandwidth: {request.MaxBandwidth} bytes/s is not positive");
        }

        if (vm.IsFinished)
        {
            throw ApiException.Conflict($"{vm.Id} has finished ({vm.State}); there is nothing to migrate");
        }

        vm.EnsureNotHeld("migrated");
    }

    public async Task<JsonElement> MigrateAsync(HostedVm vm, MigrateVmRequest request, HostJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(job);
        var context = _context ?? throw new InvalidOperationException("the migration endpoint has not been started");
        var to = ParseDestination(request.To);
        var destination = to.ToString();
        MigrationReport report;
        using (await vm.AcquireControlAsync(cancellationToken).ConfigureAwait(false))
        {
            if (vm.IsFinished)
            {
                throw ApiException.Conflict($"{vm.Id} finished before the migration started");
            }

            vm.EnsureNotHeld("migrated");

            job.Report("connecting");
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(to, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new ApiException(StatusCodes.Status502BadGateway, $"cannot reach the destination {to}: {e.Message}; {vm.Id} keeps running here", e);
            }

            var options = new MigrationOptions
            {
                Secret = context.Secret.Key,
                Tls = context.Tls,
                DowntimeTarget = request.DowntimeMilliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromMilliseconds(30),
                MaxBandwidth = request.MaxBandwidth,
                Compress = request.Compress ?? false,
                AuthenticationTimeout = Timeout,
                HandoverTimeout = Timeout,
                StallTimeout = Timeout,
            };
            try
            {
                report = await MigrationSource.MigrateAsync(
                    vm.Machine, client.GetStream(), [MigratedVm.ToSection(vm.Spec)], options, new JobProgress(job), cancellationToken).ConfigureAwait(false);
            }
            catch (MigrationAuthenticationException e)
            {
                Log.MigrationFailed(_logger, vm.Id, destination, e.Message);
                throw new ApiException(StatusCodes.Status403Forbidden, $"{vm.Id}: {e.Message}; it keeps running here", e);
            }
            catch (MigrationException e)
            {
                Log.MigrationFailed(_logger, vm.Id, destination, e.Message);
                // The engine's message already says where the guest is; an unknown outcome also needs where to look.
                string detail;
                if (e.Outcome == MigrationOutcome.RolledBack)
                {
                    detail = $"{vm.Id}: {e.Message}";
                }
                else
                {
                    vm.HoldUnresolved(destination);
                    detail = $"{vm.Id}: {e.Message}; it is held until it is known where it runs: check the destination {to}, then vm resume --force {vm.Id} here if it does not run it, or vm delete {vm.Id} here if it does";
                }

                throw new ApiException(StatusCodes.Status502BadGateway, detail, e);
            }
        }

        var summary = report.ToString();
        Log.MigratedOut(_logger, vm.Id, destination, summary);
        await context.Vms.DeleteAsync(vm.Id).ConfigureAwait(false);
        return JsonSerializer.SerializeToElement(ToResult(to, report), HostJsonContext.Default.MigrationJobResult);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task[] incoming;
        lock (_gate)
        {
            incoming = [.. _incoming];
        }

        await Task.WhenAll(incoming).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    internal static IPEndPoint ParseDestination(string? to)
    {
        if (string.IsNullOrWhiteSpace(to) || !IPEndPoint.TryParse(to, out var endpoint) || endpoint.Port == 0 || !to.Contains(':', StringComparison.Ordinal))
        {
            throw ApiException.BadRequest($"to: '{to}' is not a destination HOST:PORT (an IP address and the destination daemon's migration port)");
        }

        return endpoint;
    }

    private static MigrationJobResult ToResult(IPEndPoint to, MigrationReport r) => new(
        to.ToString(),
        r.TotalTime.TotalMilliseconds,
        r.GuestDowntime.TotalMilliseconds,
        r.DowntimeTarget.TotalMilliseconds,
        r.DowntimeTargetMet,
        r.ExpectedDowntime.TotalMilliseconds,
        r.BytesSent,
        r.PagesSent,
        r.BytesPerSecond / 1e9,
        r.CompressionRatio,
        r.MaxThrottle,
        r.AutoConverged,
        r.Switchover.ToString(),
        [.. r.Rounds.Select(x => new MigrationRoundResult(x.Number, x.Pages, x.Bytes, x.Duration.TotalMilliseconds, x.DirtyPagesAtEnd, x.Throttle, x.StopAndCopy))]);

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || token.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // A connection that died in the accept queue; the listener itself is fine.
                continue;
            }

            var task = Task.Run(() => ReceiveAsync(socket, token), CancellationToken.None);
            lock (_gate)
            {
                _incoming.RemoveAll(t => t.IsCompleted);
                _incoming.Add(task);
            }
        }
    }

    private async Task ReceiveAsync(Socket socket, CancellationToken token)
    {
        var context = _context!;
        var peer = socket.RemoteEndPoint?.ToString() ?? "?";
        IncomingVm? incoming = null;
        IReadOnlyList<SocketRebinding> rebindings = [];
        var committed = false;
        using var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            var machine = await MigrationDestination.ReceiveAsync(
                stream,
                state => Build(state, context, ref incoming, out rebindings),
                started =>
                {
                    incoming!.Commit((RiscVMachine)started, rebindings, start: true);
                    committed = true;
                },
                new MigrationReceiveOptions
                {
                    Secret = context.Secret.Key,
                    Tls = context.Tls,
                    ExpectedKind = RiscVMachine.MachineKind,
                    AuthenticationTimeout = Timeout,
                    HandoverTimeout = Timeout,
                    StallTimeout = Timeout,
                },
                token).ConfigureAwait(false);

            // A VM that was paused on the source arrives paused: registered, not started.
            if (!committed)
            {
                incoming!.Commit((RiscVMachine)machine, rebindings, start: false);
                committed = true;
            }
        }
#pragma warning disable CA1031 // An incoming migration that fails is reported and discarded; the listener must go on.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.IncomingFailed(_logger, peer, e.Message);
        }
        finally
        {
            if (!committed)
            {
                incoming?.Dispose();
            }
        }
    }

    private static RiscVMachine Build(RestoredMachineState state, MigrationContext context, ref IncomingVm? incoming, out IReadOnlyList<SocketRebinding> rebindings)
    {
        var spec = MigratedVm.FromSection(state.FindSection(MigratedVm.SectionName));
        incoming = context.Vms.ReserveIncoming(spec);
        var memory = state.TakeMemory();
        RiscVMachine machine;
        try
        {
            machine = RiscVMachine.Restore(memory, state.Sections, incoming.CreateMachineOptions(memory.Size));
        }
        catch
        {
            memory.Dispose();
            throw;
        }

        try
        {
            rebindings = machine.Sockets?.RestoreTable(state.Sockets) ?? [];
            return machine;
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    /// <summary>Reports engine progress into the job synchronously, so the last report before completion is never lost.</summary>
    private sealed class JobProgress(HostJob job) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value)
        {
            var progress = new MigrationJobProgress(
                value.Phase.ToString(),
                value.Round,
                value.PagesLeft,
                value.DirtyPagesPerSecond,
                value.BandwidthBytesPerSecond,
                value.ExpectedDowntime.TotalMilliseconds,
                value.BytesSent,
                value.Throttle);
            job.Report(
                string.Create(CultureInfo.InvariantCulture, $"{value.Phase.ToString().ToLowerInvariant()}, round {value.Round}"),
                null,
                JsonSerializer.SerializeToElement(progress, HostJsonContext.Default.MigrationJobProgress));
        }
    }
}
