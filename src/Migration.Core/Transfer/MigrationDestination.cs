using System.Net.Security;
using System.Net.Sockets;
using Migration.Core.Machines;
using Migration.Core.State;
using Migration.Core.Streams;

namespace Migration.Core.Transfer;

/// <summary>
/// The receiving side of a live migration: authenticate, read and verify the whole stream into fresh memory (pre-faulted
/// while round 0 arrives), build the machine, then the two-phase hand-over (PROTOCOL.md). Any failure before Commit
/// discards everything and, while the connection lasts, tells the source why, so that it rolls back at once.
/// </summary>
public static class MigrationDestination
{
    // After an Error the source stops sending and closes; reading until then keeps the Error from being lost to a reset.
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ErrorSendLimit = TimeSpan.FromSeconds(2);

    /// <param name="build">
    /// Turns the verified state into a machine that is not running yet, typically taking the memory with
    /// <see cref="RestoredMachineState.TakeMemory"/>. If it throws after taking the memory, it disposes what it took.
    /// </param>
    /// <param name="start">Starts the built machine's vCPU once the source has committed (and its vCPU ran there).</param>
    /// <returns>The machine, owned by the caller from now on; running unless the source's VM was not.</returns>
    /// <exception cref="MigrationAuthenticationException">The source did not prove the shared secret; nothing was read.</exception>
    /// <exception cref="MigrationException">The migration failed here; nothing is kept.</exception>
    public static async Task<IVirtualMachine> ReceiveAsync(
        Stream channel,
        Func<RestoredMachineState, IVirtualMachine> build,
        Action<IVirtualMachine> start,
        MigrationReceiveOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(options);
        if (channel is NetworkStream network)
        {
            network.Socket.NoDelay = true;
        }

        SslStream? tls = null;
        try
        {
            if (options.Tls is { } settings)
            {
                tls = await TlsChannel.AcceptAsync(channel, settings, options.AuthenticationTimeout, cancellationToken).ConfigureAwait(false);
                if (tls is null)
                {
                    await ChannelAuthenticator.RefuseWithoutTlsAsync(channel, options.AuthenticationTimeout, cancellationToken).ConfigureAwait(false);
                }
            }

            await ChannelAuthenticator.AuthenticateServerAsync(tls ?? channel, options.Secret, options.AuthenticationTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (tls is not null)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
            }

            if (e is OperationCanceledException)
            {
                throw new MigrationException("cancelled during authentication; nothing was received", MigrationOutcome.RolledBack, e);
            }

            throw;
        }

        // Only the TLS session is this method's: the connection under it stays the caller's.
        await using (tls)
        {
            return await ReceiveAuthenticatedAsync(tls ?? channel, build, start, options, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<IVirtualMachine> ReceiveAuthenticatedAsync(
        Stream channel,
        Func<RestoredMachineState, IVirtualMachine> build,
        Action<IVirtualMachine> start,
        MigrationReceiveOptions options,
        CancellationToken cancellationToken)
    {
        FaultPoint.Reach("destination", "setup");
        CodecWarmUp.Run();

        IVirtualMachine machine;
        try
        {
            machine = await ReceiveStateAsync(new StallGuardStream(channel, options.StallTimeout, "source"), build, options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var reason = Describe(e, cancellationToken);
            await RefuseAsync(channel, reason).ConfigureAwait(false);
            throw new MigrationException($"incoming migration failed: {reason}; nothing was kept", MigrationOutcome.RolledBack, e);
        }

        FaultPoint.Reach("destination", "stop-and-copy");
        ControlMessage commit;
        try
        {
            commit = await AwaitCommitAsync(channel, options.HandoverTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            machine.Dispose();
            var reason = e is MigrationException ? e.Message : Describe(e, cancellationToken);
            throw new MigrationException($"hand-over failed: {reason}; the VM was discarded here and continues on the source", MigrationOutcome.RolledBack, e);
        }

        // Committed: the guest is this side's now.
        if (commit.StartVcpu)
        {
            try
            {
                start(machine);
            }
            catch (Exception e)
            {
                machine.Dispose();
                await SendQuietlyAsync(channel, ControlMessage.Error($"the destination could not start the VM: {e.Message}"), CancellationToken.None).ConfigureAwait(false);
                throw new MigrationException(
                    $"the source committed, but starting the VM failed: {e.Message}; it was discarded here and stays paused on the source", MigrationOutcome.Unknown, e);
            }
        }

        FaultPoint.Reach("destination", "after-commit");

        // The source learns of the take-over from this; if it cannot, it keeps its copy paused, and this one runs.
        await SendQuietlyAsync(channel, ControlMessage.Resumed, CancellationToken.None).ConfigureAwait(false);
        return machine;
    }

    private static async Task<IVirtualMachine> ReceiveStateAsync(
        Stream channel, Func<RestoredMachineState, IVirtualMachine> build, MigrationReceiveOptions options, CancellationToken cancellationToken)
    {
        var readOptions = new StateReadOptions
        {
            ExpectedKind = options.ExpectedKind,
            MemoryBacking = options.MemoryBacking,
            DecodeParallelism = options.DecodeParallelism,
            RequireEndOfInput = false,
            OnRoundEnd = (round, token) =>
            {
                if (FaultPoint.IsArmed)
                {
                    FaultPoint.Reach("destination", $"round-{round}");
                }

                return ControlChannel.WriteAsync(channel, ControlMessage.RoundDone(round), token);
            },
            OnMemoryAllocated = memory =>
            {
                if (options.MaxMemorySize is { } max && memory.Size > max)
                {
                    throw new MigrationException($"cannot allocate {Size(memory.Size)} for the VM: this destination takes at most {Size(max)}");
                }

                return options.Prefault ?? MemoryPrefaulter.Pays(memory) ? MemoryPrefaulter.Start(memory) : null;
            },
        };
        var state = await MachineStateReader.ReadAsync(channel, readOptions, cancellationToken).ConfigureAwait(false);
        using (state)
        {
            var machine = build(state);
            if (machine.State is not (MachineRunState.Created or MachineRunState.Paused))
            {
                machine.Dispose();
                throw new InvalidOperationException($"the build delegate returned a machine that is {machine.State}; it must not run before the commit");
            }

            return machine;
        }
    }

    private static async Task<ControlMessage> AwaitCommitAsync(Stream channel, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await ControlChannel.WriteAsync(channel, ControlMessage.Ready, cancellationToken).ConfigureAwait(false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        ControlMessage? message;
        try
        {
            message = await ControlChannel.ReadAsync(channel, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new MigrationException($"the source did not commit within {timeout.TotalSeconds:0.#} s", e);
        }

        return message switch
        {
            null => throw new MigrationException("the source closed the connection before committing"),
            { Type: ControlMessageType.Commit } => message,
            { Type: ControlMessageType.Error } => throw new MigrationException($"the source gave up: {message.Reason}"),
            _ => throw new MigrationException($"protocol violation: the source sent {message} instead of Commit"),
        };
    }

    /// <summary>Tells the source why, then reads until it closes: closing with its data unread would reset the connection and could destroy the Error in flight.</summary>
    private static async Task RefuseAsync(Stream channel, string reason)
    {
        using var deadline = new CancellationTokenSource(ErrorSendLimit);
        if (!await SendQuietlyAsync(channel, ControlMessage.Error(reason), deadline.Token).ConfigureAwait(false))
        {
            return;
        }

        using var drain = new CancellationTokenSource(DrainLimit);
        var buffer = new byte[64 * 1024];
        try
        {
            while (await channel.ReadAsync(buffer, drain.Token).ConfigureAwait(false) > 0)
            {
            }
        }
#pragma warning disable CA1031 // Draining ends however the connection ends; the refusal itself has been sent.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private static async Task<bool> SendQuietlyAsync(Stream channel, ControlMessage message, CancellationToken cancellationToken)
    {
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(ErrorSendLimit);
            await ControlChannel.WriteAsync(channel, message, deadline.Token).ConfigureAwait(false);
            return true;
        }
#pragma warning disable CA1031 // Best effort on a connection that may already be gone.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    private static string Describe(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => "the destination cancelled the migration",
        MigrationStreamException or MigrationException or StateSectionException => e.Message,
        IOException or SocketException => $"the connection failed: {e.Message}",
        _ => e.Message,
    };

    private static string Size(ulong bytes) =>
        bytes % (1UL << 30) == 0 ? $"{bytes >> 30} GiB" : bytes % (1UL << 20) == 0 ? $"{bytes >> 20} MiB" : $"{bytes} bytes";
}
