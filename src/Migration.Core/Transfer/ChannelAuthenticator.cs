using System.Buffers.Binary;
using System.Net.Security;
using System.Security.Cryptography;

namespace Migration.Core.Transfer;

/// <summary>
/// Mutual HMAC-SHA256 challenge–response over a fresh connection, before any guest state moves. Each side sends a
/// fresh random nonce; each proves it knows the secret by a MAC over both nonces and its role, so a recorded
/// handshake cannot be replayed and a proof cannot be reflected. The secret itself never crosses the wire.
/// </summary>
/// <remarks>
/// The destination (server) checks the source's proof first and answers with an explicit accept or refuse byte, so a
/// wrong secret fails with a clear message on both ends; the source then checks the destination's proof, so it never
/// sends a guest to an impostor that merely claims to accept. Byte layout: PROTOCOL.md.
/// </remarks>
public static class ChannelAuthenticator
{
    /// <summary>The connecting side (the migration source).</summary>
    public static async Task AuthenticateClientAsync(Stream channel, ReadOnlyMemory<byte> secret, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        CheckSecret(secret);
        using var deadline = Deadline(timeout, cancellationToken);
        var token = deadline.Token;
        try
        {
            var clientNonce = RandomNumberGenerator.GetBytes(TransferProtocol.NonceSize);
            await WriteAsync(channel, Hello(clientNonce), token).ConfigureAwait(false);
            var (serverVersion, serverNonce) = await ReadHelloAsync(channel, "destination", token).ConfigureAwait(false);
            CheckVersion(serverVersion, "destination");
            await WriteAsync(channel, Mac(secret.Span, TransferProtocol.ClientLabel, clientNonce, serverNonce), token).ConfigureAwait(false);

            var verdict = await ReadExactAsync(channel, 1, token).ConfigureAwait(false);
            if (verdict[0] == TransferProtocol.RefuseRequiresTls)
            {
                throw new MigrationAuthenticationException("refused by the destination: it requires TLS, and this host has none (--tls-cert, --tls-ca)");
            }

            if (verdict[0] != TransferProtocol.Accept)
            {
                throw new MigrationAuthenticationException("refused by the destination: wrong secret");
            }

            var proof = await ReadExactAsync(channel, TransferProtocol.MacSize, token).ConfigureAwait(false);
            var expected = Mac(secret.Span, TransferProtocol.ServerLabel, clientNonce, serverNonce);
            var genuine = CryptographicOperations.FixedTimeEquals(proof, expected);
            await WriteAsync(channel, [genuine ? TransferProtocol.Accept : TransferProtocol.Refuse], token).ConfigureAwait(false);
            if (!genuine)
            {
                throw new MigrationAuthenticationException("the destination does not know the shared secret (it accepted without proving it)");
            }
        }
        catch (Exception e) when (Translate(e, timeout, "destination", cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>The accepting side (the migration destination).</summary>
    public static async Task AuthenticateServerAsync(Stream channel, ReadOnlyMemory<byte> secret, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        CheckSecret(secret);
        using var deadline = Deadline(timeout, cancellationToken);
        var token = deadline.Token;
        try
        {
            ushort clientVersion;
            byte[] clientNonce;
            try
            {
                (clientVersion, clientNonce) = await ReadHelloAsync(channel, "source", token).ConfigureAwait(false);
            }
            catch (Exception e) when (channel is SslStream && e is EndOfStreamException or IOException)
            {
                // Under TLS 1.3 the server's handshake ends before the client has checked its certificate: a source
                // that refused it hangs up here, before saying anything.
                throw new MigrationAuthenticationException($"the source closed the connection after the TLS handshake: {TlsChannel.TrustHint}", e);
            }

            var serverNonce = RandomNumberGenerator.GetBytes(TransferProtocol.NonceSize);
            // Answered even when the versions differ, so that the source can say which version this side speaks.
            await WriteAsync(channel, Hello(serverNonce), token).ConfigureAwait(false);
            CheckVersion(clientVersion, "source");

            var proof = await ReadExactAsync(channel, TransferProtocol.MacSize, token).ConfigureAwait(false);
            var expected = Mac(secret.Span, TransferProtocol.ClientLabel, clientNonce, serverNonce);
            if (!CryptographicOperations.FixedTimeEquals(proof, expected))
            {
                await WriteAsync(channel, [TransferProtocol.Refuse], token).ConfigureAwait(false);
                throw new MigrationAuthenticationException("the peer does not know the shared secret");
            }

            var answer = new byte[1 + TransferProtocol.MacSize];
            answer[0] = TransferProtocol.Accept;
            Mac(secret.Span, TransferProtocol.ServerLabel, clientNonce, serverNonce).CopyTo(answer, 1);
            await WriteAsync(channel, answer, token).ConfigureAwait(false);

            var verdict = await ReadExactAsync(channel, 1, token).ConfigureAwait(false);
            if (verdict[0] != TransferProtocol.Accept)
            {
                throw new MigrationAuthenticationException("refused by the source: it did not accept this destination's proof");
            }
        }
        catch (Exception e) when (Translate(e, timeout, "source", cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// The destination's answer to a source that speaks the plain protocol where TLS is required: the exchange up to
    /// the verdict, which says so, then <see cref="MigrationAuthenticationException"/>. The proof is read, not checked:
    /// the refusal is the same for everyone, and reading it first keeps the verdict from being lost to a reset.
    /// </summary>
    public static async Task RefuseWithoutTlsAsync(Stream channel, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        using var deadline = Deadline(timeout, cancellationToken);
        var token = deadline.Token;
        try
        {
            await ReadHelloAsync(channel, "source", token).ConfigureAwait(false);
            await WriteAsync(channel, Hello(RandomNumberGenerator.GetBytes(TransferProtocol.NonceSize)), token).ConfigureAwait(false);
            await ReadExactAsync(channel, TransferProtocol.MacSize, token).ConfigureAwait(false);
            await WriteAsync(channel, [TransferProtocol.RefuseRequiresTls], token).ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e, timeout, "source", cancellationToken) is { } translated)
        {
            throw translated;
        }

        throw new MigrationAuthenticationException(TlsChannel.MissingTls);
    }

    private static void CheckSecret(ReadOnlyMemory<byte> secret)
    {
        if (secret.Length < TransferProtocol.MinSecretLength)
        {
            throw new ArgumentException($"the shared secret must be at least {TransferProtocol.MinSecretLength} bytes; it is {secret.Length}", nameof(secret));
        }
    }

    private static CancellationTokenSource Deadline(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        return deadline;
    }

    /// <summary>The failures of the exchange itself, as authentication failures; null for those that pass through unchanged.</summary>
    private static MigrationAuthenticationException? Translate(Exception e, TimeSpan timeout, string peer, CancellationToken cancellationToken) => e switch
    {
        MigrationAuthenticationException => null,
        OperationCanceledException when cancellationToken.IsCancellationRequested => null,
        OperationCanceledException => new MigrationAuthenticationException($"the {peer} did not complete authentication within {timeout.TotalSeconds:0.#} s", e),
        EndOfStreamException => new MigrationAuthenticationException($"the {peer} closed the connection during authentication", e),
        IOException => new MigrationAuthenticationException($"the connection to the {peer} failed during authentication: {e.Message}", e),
        _ => null,
    };

    private static byte[] Hello(byte[] nonce)
    {
        var hello = new byte[TransferProtocol.HelloSize];
        TransferProtocol.AuthMagic.CopyTo(hello);
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(8), TransferProtocol.Version);
        nonce.CopyTo(hello, 10);
        return hello;
    }

    private static async Task<(ushort Version, byte[] Nonce)> ReadHelloAsync(Stream channel, string peer, CancellationToken cancellationToken)
    {
        var hello = await ReadExactAsync(channel, TransferProtocol.HelloSize, cancellationToken).ConfigureAwait(false);
        if (peer == "source" && hello[0] == TlsChannel.HandshakeRecord && hello[1] == 3)
        {
            throw new MigrationAuthenticationException(TlsChannel.UnexpectedTls);
        }

        if (!hello.AsSpan(0, 8).SequenceEqual(TransferProtocol.AuthMagic))
        {
            throw new MigrationAuthenticationException($"the {peer} does not speak the migration protocol (its first bytes are {Convert.ToHexString(hello, 0, 8)})");
        }

        return (BinaryPrimitives.ReadUInt16LittleEndian(hello.AsSpan(8)), hello[10..]);
    }

    private static void CheckVersion(ushort version, string peer)
    {
        if (version != TransferProtocol.Version)
        {
            throw new MigrationAuthenticationException($"the {peer} speaks migration protocol version {version}; this build speaks {TransferProtocol.Version}");
        }
    }

    private static byte[] Mac(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> label, byte[] clientNonce, byte[] serverNonce)
    {
        var message = new byte[label.Length + clientNonce.Length + serverNonce.Length];
        label.CopyTo(message);
        clientNonce.CopyTo(message, label.Length);
        serverNonce.CopyTo(message, label.Length + clientNonce.Length);
        return HMACSHA256.HashData(secret, message);
    }

    private static async Task WriteAsync(Stream channel, byte[] bytes, CancellationToken cancellationToken)
    {
        await channel.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await channel.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadExactAsync(Stream channel, int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        await channel.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer;
    }
}
