using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Migration.Core.Transfer;

/// <summary>
/// Wraps a fresh migration connection in TLS before the HMAC handshake (PROTOCOL.md §0), and turns each way a
/// handshake fails into one line that says which side lacks what.
/// </summary>
internal static class TlsChannel
{
    /// <summary>The first byte of a TLS record carrying a handshake (a ClientHello).</summary>
    public const byte HandshakeRecord = 0x16;

    private const string BothOrNeither = "both hosts need TLS (--tls-cert), or neither";

    /// <summary>The source's side: the destination must present a certificate <paramref name="tls"/> trusts.</summary>
    public static async Task<SslStream> ConnectAsync(Stream channel, MigrationTls tls, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (tls.TrustedCertificates.Count == 0 && tls.PinnedSha256.Count == 0)
        {
            throw new ArgumentException("TLS on the source needs a trusted certificate or a pinned fingerprint to check the destination by", nameof(tls));
        }

        string? distrust = null;
        var ssl = new SslStream(channel, leaveInnerStreamOpen: true);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = "",
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
            {
                distrust = Distrust(certificate, chain, tls);
                return distrust is null;
            },
        };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await ssl.AuthenticateAsClientAsync(options, deadline.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            throw distrust is not null
                ? new MigrationAuthenticationException($"the destination's certificate is not trusted: {distrust}", e)
                : e is OperationCanceledException
                    ? new MigrationAuthenticationException($"the destination did not complete the TLS handshake within {timeout.TotalSeconds:0.#} s", e)
                    : new MigrationAuthenticationException($"the TLS handshake with the destination failed ({Reason(e)}): does it have a certificate? {BothOrNeither}", e);
        }
    }

    /// <summary>
    /// The destination's side. Returns null when the source speaks the plain protocol instead (its first byte is the
    /// MIGRAUTH magic's): the caller then refuses it in that protocol, so that the source learns why.
    /// </summary>
    public static async Task<SslStream?> AcceptAsync(Stream channel, MigrationTls tls, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var certificate = tls.Certificate ?? throw new ArgumentException("TLS on the destination needs this host's certificate", nameof(tls));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            if (channel is NetworkStream network)
            {
                var first = new byte[1];
                var read = await network.Socket.ReceiveAsync(first, SocketFlags.Peek, deadline.Token).ConfigureAwait(false);
                if (read == 1 && first[0] == TransferProtocol.AuthMagic[0])
                {
                    return null;
                }
            }

            var ssl = new SslStream(channel, leaveInnerStreamOpen: true);
            try
            {
                await ssl.AuthenticateAsServerAsync(
                    new SslServerAuthenticationOptions
                    {
                        ServerCertificate = certificate,
                        ClientCertificateRequired = false,
                        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    },
                    deadline.Token).ConfigureAwait(false);
                return ssl;
            }
            catch
            {
                await ssl.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw e is OperationCanceledException
                ? new MigrationAuthenticationException($"the source did not complete the TLS handshake within {timeout.TotalSeconds:0.#} s", e)
                : new MigrationAuthenticationException($"the TLS handshake with the source failed ({Reason(e)}): {TrustHint}", e);
        }
    }

    /// <summary>What a destination can say when the source dropped the handshake: most likely, it did not trust the certificate.</summary>
    public static string TrustHint => "does the source trust this host's certificate (--tls-ca or --tls-pin)?";

    /// <summary>The message for a source that speaks TLS to a destination without a certificate.</summary>
    public static string UnexpectedTls => $"the source speaks TLS, but this host has no certificate: {BothOrNeither}";

    /// <summary>The message for a plain source at a destination that requires TLS.</summary>
    public static string MissingTls => $"the source does not use TLS, but this host requires it: {BothOrNeither}";

    /// <summary>Why the certificate is not trusted, or null when it is.</summary>
    private static string? Distrust(X509Certificate? presented, X509Chain? presentedChain, MigrationTls tls)
    {
        if (presented is null)
        {
            return "it presented none";
        }

        using var certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        var fingerprint = MigrationTls.Fingerprint(certificate);
        if (tls.PinnedSha256.Any(pin => MigrationTls.NormalizePin(pin) == fingerprint))
        {
            return null;
        }

        var named = $"{certificate.Subject} (SHA-256 {fingerprint})";
        if (tls.TrustedCertificates.Count == 0)
        {
            return $"{named} is not pinned";
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(tls.TrustedCertificates);
        if (presentedChain is not null)
        {
            // The intermediates the destination sent along: they lead to the trusted root, they are not trusted themselves.
            foreach (var element in presentedChain.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (chain.Build(certificate))
        {
            return null;
        }

        var status = chain.ChainStatus.Length > 0 ? chain.ChainStatus[0].StatusInformation.Trim() : "no chain";
        return tls.PinnedSha256.Count == 0
            ? $"{named} does not chain to a trusted certificate ({status})"
            : $"{named} is not pinned and does not chain to a trusted certificate ({status})";
    }

    private static string Reason(Exception e)
    {
        var message = (e.InnerException ?? e).Message.TrimEnd('.');
        return message.Length == 0 ? e.GetType().Name : char.ToLowerInvariant(message[0]) + message[1..];
    }
}
