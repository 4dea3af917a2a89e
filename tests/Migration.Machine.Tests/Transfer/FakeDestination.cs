using Migration.Core.Streams;
using Migration.Core.Transfer;

namespace Migration.Machine.Tests.Transfer;

/// <summary>Destinations that misbehave on purpose: they authenticate properly, then fail at a chosen point.</summary>
internal static class FakeDestination
{
    /// <summary>Reads <paramref name="bytes"/> of the stream, then closes the connection, as a destination killed mid-round.</summary>
    public static async Task CloseAfterAsync(Loopback link, long bytes)
    {
        await ChannelAuthenticator.AuthenticateServerAsync(link.Destination, TransferSetup.Secret, TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        for (long read = 0; read < bytes;)
        {
            var n = await link.Destination.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, bytes - read)));
            Assert.NotEqual(0, n);
            read += n;
        }

        link.DestinationClient.Client.Close();
    }

    /// <summary>Reads frames, acknowledging rounds, until the round-end of <paramref name="round"/>; then closes the connection.</summary>
    public static async Task CloseAfterRoundAsync(Loopback link, int round)
    {
        var reader = await StartReadingAsync(link);
        while (await reader.ReadFrameAsync() is { } frame)
        {
            using (frame)
            {
                if (frame.Type != FrameType.RoundEnd)
                {
                    continue;
                }

                if (frame.ReadRound() >= round)
                {
                    break;
                }

                await ControlChannel.WriteAsync(link.Destination, ControlMessage.RoundDone(frame.ReadRound()));
            }
        }

        link.DestinationClient.Client.Close();
    }

    /// <summary>Reads the header and the machine section, answers Error, then reads until the source closes.</summary>
    public static async Task RefuseAsync(Loopback link, string reason)
    {
        var reader = await StartReadingAsync(link);
        (await reader.ReadFrameAsync())!.Dispose();
        await ControlChannel.WriteAsync(link.Destination, ControlMessage.Error(reason));
        await DrainAsync(link);
    }

    /// <summary>Reads up to round 0's first pages, sends <paramref name="bytes"/> as if they were a control message, then reads until the source closes.</summary>
    public static async Task SendRawAsync(Loopback link, byte[] bytes)
    {
        var reader = await StartReadingAsync(link);
        while (await reader.ReadFrameAsync() is { } frame)
        {
            using (frame)
            {
                if (frame.Type == FrameType.Pages)
                {
                    break;
                }
            }
        }

        await link.Destination.WriteAsync(bytes);
        await DrainAsync(link);
    }

    /// <summary>Reads the whole stream and acknowledges its rounds, but never says Ready.</summary>
    public static async Task SilentAsync(Loopback link)
    {
        var reader = await StartReadingAsync(link);
        while (await reader.ReadFrameAsync() is { } frame)
        {
            using (frame)
            {
                if (frame.Type == FrameType.RoundEnd)
                {
                    await ControlChannel.WriteAsync(link.Destination, ControlMessage.RoundDone(frame.ReadRound()));
                }
            }
        }

        await DrainAsync(link);
    }

    /// <summary>Reads the stream but never acknowledges a round.</summary>
    public static async Task NeverAcknowledgeAsync(Loopback link)
    {
        var reader = await StartReadingAsync(link);
        while (await reader.ReadFrameAsync() is { } frame)
        {
            frame.Dispose();
        }
    }

    /// <summary>Authenticates, then reads nothing more and holds the connection open until the source closes it: a hung peer.</summary>
    public static async Task HangAfterAuthenticationAsync(Loopback link, Task sourceDone)
    {
        await ChannelAuthenticator.AuthenticateServerAsync(link.Destination, TransferSetup.Secret, TimeSpan.FromSeconds(10));
        await sourceDone.WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private static async Task<MigrationStreamReader> StartReadingAsync(Loopback link)
    {
        await ChannelAuthenticator.AuthenticateServerAsync(link.Destination, TransferSetup.Secret, TimeSpan.FromSeconds(10));
        var reader = new MigrationStreamReader(link.Destination);
        await reader.ReadHeaderAsync();
        return reader;
    }

    private static async Task DrainAsync(Loopback link)
    {
        var buffer = new byte[64 * 1024];
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (await link.Destination.ReadAsync(buffer, limit.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
        }
    }
}
