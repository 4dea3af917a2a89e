using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Migration.Core.Machines;
using Migration.Core.Transfer;

namespace Migration.Machine.Tests.Transfer;

public sealed class AuthenticationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly byte[] Other = Encoding.UTF8.GetBytes("a different secret, also long enough");

    [Fact]
    public async Task Both_ends_accept_the_same_secret()
    {
        await using var link = await Loopback.ConnectAsync();

        await Task.WhenAll(
            ChannelAuthenticator.AuthenticateClientAsync(link.Source, TransferSetup.Secret, Timeout),
            ChannelAuthenticator.AuthenticateServerAsync(link.Destination, TransferSetup.Secret, Timeout));
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_on_both_ends_and_no_state_is_sent()
    {
        await using var link = await Loopback.ConnectAsync();
        using var machine = TransferSetup.Load("idle", 4UL << 20);
        machine.Start();
        var recorded = new RecordingStream(link.Source);

        var source = MigrationSource.MigrateAsync(machine, recorded, [], new MigrationOptions { Secret = TransferSetup.Secret });
        var destination = MigrationDestination.ReceiveAsync(
            link.Destination, TransferSetup.Build(), TransferSetup.Start, new MigrationReceiveOptions { Secret = Other });

        var refused = await Assert.ThrowsAsync<MigrationAuthenticationException>(() => source);
        var unknown = await Assert.ThrowsAsync<MigrationAuthenticationException>(() => destination);
        Assert.Equal("refused by the destination: wrong secret", refused.Message);
        Assert.Equal("the peer does not know the shared secret", unknown.Message);

        // Hello and proof, nothing more: no stream header, and the secret itself never crossed.
        Assert.Equal(TransferProtocol.HelloSize + TransferProtocol.MacSize, recorded.Written.Length);
        Assert.Equal(-1, recorded.Written.AsSpan().IndexOf("MIGRSTRM"u8));
        Assert.Equal(-1, recorded.Written.AsSpan().IndexOf(TransferSetup.Secret.AsSpan(0, 8)));
        Assert.Equal(MachineRunState.Running, machine.State);
    }

    [Fact]
    public async Task A_recorded_proof_replayed_to_a_new_challenge_is_refused()
    {
        // Record a genuine client's hello and proof.
        byte[] recorded;
        await using (var first = await Loopback.ConnectAsync())
        {
            var client = new RecordingStream(first.Source);
            await Task.WhenAll(
                ChannelAuthenticator.AuthenticateClientAsync(client, TransferSetup.Secret, Timeout),
                ChannelAuthenticator.AuthenticateServerAsync(first.Destination, TransferSetup.Secret, Timeout));
            recorded = client.Written;
        }

        // Replay it without the secret: the server's fresh nonce makes the old proof worthless.
        await using var second = await Loopback.ConnectAsync();
        var server = ChannelAuthenticator.AuthenticateServerAsync(second.Destination, TransferSetup.Secret, Timeout);
        await second.Source.WriteAsync(recorded.AsMemory(0, TransferProtocol.HelloSize));
        var hello = new byte[TransferProtocol.HelloSize];
        await second.Source.ReadExactlyAsync(hello);
        await second.Source.WriteAsync(recorded.AsMemory(TransferProtocol.HelloSize, TransferProtocol.MacSize));
        var verdict = new byte[1];
        await second.Source.ReadExactlyAsync(verdict);

        Assert.Equal(TransferProtocol.Refuse, verdict[0]);
        var e = await Assert.ThrowsAsync<MigrationAuthenticationException>(() => server);
        Assert.Equal("the peer does not know the shared secret", e.Message);
    }

    [Fact]
    public async Task An_impostor_that_accepts_without_proving_the_secret_gets_nothing()
    {
        await using var link = await Loopback.ConnectAsync();
        var client = ChannelAuthenticator.AuthenticateClientAsync(link.Source, TransferSetup.Secret, Timeout);

        var hello = new byte[TransferProtocol.HelloSize];
        await link.Destination.ReadExactlyAsync(hello);
        await link.Destination.WriteAsync(Hello(RandomNumberGenerator.GetBytes(TransferProtocol.NonceSize)));
        await link.Destination.ReadExactlyAsync(new byte[TransferProtocol.MacSize]);
        await link.Destination.WriteAsync(new byte[] { TransferProtocol.Accept }.Concat(RandomNumberGenerator.GetBytes(TransferProtocol.MacSize)).ToArray());
        var verdict = new byte[1];
        await link.Destination.ReadExactlyAsync(verdict);

        var e = await Assert.ThrowsAsync<MigrationAuthenticationException>(() => client);
        Assert.StartsWith("the destination does not know the shared secret", e.Message, StringComparison.Ordinal);
        Assert.Equal(TransferProtocol.Refuse, verdict[0]);
    }

    [Fact]
    public async Task A_peer_of_another_protocol_version_is_named_by_its_version()
    {
        await using var link = await Loopback.ConnectAsync();
        var server = ChannelAuthenticator.AuthenticateServerAsync(link.Destination, TransferSetup.Secret, Timeout);
        var hello = Hello(new byte[TransferProtocol.NonceSize]);
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(8), 7);
        await link.Source.WriteAsync(hello);
        var answer = new byte[TransferProtocol.HelloSize];
        await link.Source.ReadExactlyAsync(answer);

        var e = await Assert.ThrowsAsync<MigrationAuthenticationException>(() => server);
        Assert.Equal("the source speaks migration protocol version 7; this build speaks 1", e.Message);
        Assert.Equal(TransferProtocol.Version, BinaryPrimitives.ReadUInt16LittleEndian(answer.AsSpan(8)));
    }

    [Fact]
    public async Task A_silent_peer_times_out_with_a_clear_message()
    {
        await using var link = await Loopback.ConnectAsync();

        var e = await Assert.ThrowsAsync<MigrationAuthenticationException>(
            () => ChannelAuthenticator.AuthenticateServerAsync(link.Destination, TransferSetup.Secret, TimeSpan.FromMilliseconds(200)));

        Assert.Equal("the source did not complete authentication within 0.2 s", e.Message);
    }

    [Fact]
    public async Task A_short_secret_is_refused_before_anything_is_sent() =>
        await Assert.ThrowsAsync<ArgumentException>(() => ChannelAuthenticator.AuthenticateClientAsync(Stream.Null, "short"u8.ToArray(), Timeout));

    [Fact]
    public async Task A_source_that_skips_authentication_and_sends_a_stream_gets_nothing_read_or_built()
    {
        await using var link = await Loopback.ConnectAsync();
        var built = false;
        var destination = MigrationDestination.ReceiveAsync(
            link.Destination, state => { built = true; return TransferSetup.Build()(state); }, TransferSetup.Start, TransferSetup.Destination());

        // A stream header where the hello belongs, and more besides: only the hello's 42 bytes are ever read.
        var stream = new byte[64 * 1024];
        "MIGRSTRM"u8.CopyTo(stream);
        await link.Source.WriteAsync(stream);

        var e = await Assert.ThrowsAsync<MigrationAuthenticationException>(() => destination);
        Assert.Equal("the source does not speak the migration protocol (its first bytes are 4D4947525354524D)", e.Message);
        Assert.False(built);
    }

    [Fact]
    public async Task A_proof_made_for_the_other_role_is_refused()
    {
        // Even a peer that could obtain a server proof over these very nonces cannot pass it off as a client's.
        await using var link = await Loopback.ConnectAsync();
        var server = ChannelAuthenticator.AuthenticateServerAsync(link.Destination, TransferSetup.Secret, Timeout);
        var clientNonce = RandomNumberGenerator.GetBytes(TransferProtocol.NonceSize);
        await link.Source.WriteAsync(Hello(clientNonce));
        var hello = new byte[TransferProtocol.HelloSize];
        await link.Source.ReadExactlyAsync(hello);
        byte[] message = [.. "migration-auth-v1 server"u8, .. clientNonce, .. hello.AsSpan(10)];
        var reflected = HMACSHA256.HashData(TransferSetup.Secret, message);
        await link.Source.WriteAsync(reflected);
        var verdict = new byte[1];
        await link.Source.ReadExactlyAsync(verdict);

        Assert.Equal(TransferProtocol.Refuse, verdict[0]);
        var e = await Assert.ThrowsAsync<MigrationAuthenticationException>(() => server);
        Assert.Equal("the peer does not know the shared secret", e.Message);
    }

    [Fact]
    public async Task Each_side_sends_a_fresh_nonce_on_every_connection()
    {
        var clientNonces = new HashSet<string>();
        var serverNonces = new HashSet<string>();
        for (var i = 0; i < 3; i++)
        {
            await using var link = await Loopback.ConnectAsync();
            var client = new RecordingStream(link.Source);
            var server = new RecordingStream(link.Destination);
            await Task.WhenAll(
                ChannelAuthenticator.AuthenticateClientAsync(client, TransferSetup.Secret, Timeout),
                ChannelAuthenticator.AuthenticateServerAsync(server, TransferSetup.Secret, Timeout));
            Assert.True(clientNonces.Add(Convert.ToHexString(client.Written, 10, TransferProtocol.NonceSize)));
            Assert.True(serverNonces.Add(Convert.ToHexString(server.Written, 10, TransferProtocol.NonceSize)));
        }
    }

    private static byte[] Hello(byte[] nonce)
    {
        var hello = new byte[TransferProtocol.HelloSize];
        TransferProtocol.AuthMagic.CopyTo(hello);
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(8), TransferProtocol.Version);
        nonce.CopyTo(hello, 10);
        return hello;
    }
}
