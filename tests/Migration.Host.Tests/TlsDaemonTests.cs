using System.Security.Cryptography.X509Certificates;
using Migration.Host.Api;
using Migration.Machine.Tests.Transfer;

namespace Migration.Host.Tests;

/// <summary>
/// Daemons with <c>--tls-cert</c>: a VM migrates between two of them through the real CLI, a host without TLS is
/// refused either way with a line on both ends while the VM runs on at the source, and bad TLS options stop the start.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class TlsDaemonTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _directory = Directory.CreateTempSubdirectory("migration-tls-").FullName;
    private readonly X509Certificate2 _certificate = TestCertificates.SelfSigned("migration host");

    [Fact]
    public async Task Hosts_with_tls_migrate_and_a_host_without_it_is_refused_both_ways()
    {
        var secret = TestDaemon.WriteSecret(_directory, "the same secret on every host", OwnerOnly);
        var pem = WritePemWithKey(_certificate, Path.Combine(_directory, "host.pem"));
        var trust = WritePem(_certificate, Path.Combine(_directory, "trust.pem"));
        using var a = await DaemonProcess.StartAsync("a", _directory, secret, null, "127.0.0.1", "--tls-cert", pem, "--tls-ca", trust);
        using var b = await DaemonProcess.StartAsync("b", _directory, secret, null, "127.0.0.1", "--tls-cert", pem, "--tls-pin", MigrationFingerprint());
        using var plain = await DaemonProcess.StartAsync("plain", _directory, secret);
        Assert.Contains($"migration: host a migration channel in TLS; this host's certificate has SHA-256 {MigrationFingerprint()}", a.Log, StringComparison.Ordinal);
        using var clientA = a.Client();
        using var clientB = b.Client();
        using var clientPlain = plain.Client();
        var vm = await clientA.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("idle"), 32UL << 20));

        var toPlain = await ProcessRunner.CliAsync("migrate", "--api", a.Api, vm.Id, "--to", plain.MigrationEndpoint);
        Assert.Equal(1, toPlain.ExitCode);
        Assert.Equal("", toPlain.Output);
        Assert.Matches(
            $@"^migration: {vm.Id}: the TLS handshake with the destination failed \(.+\): does it have a certificate\? both hosts need TLS \(--tls-cert\), or neither; it keeps running here\n$",
            toPlain.Error);
        Assert.Equal(VmState.Running, (await clientA.GetVmAsync(vm.Id)).State);
        await Eventually.UntilAsync(
            () => Task.FromResult(plain.Log),
            log => log.Contains("the source speaks TLS, but this host has no certificate: both hosts need TLS (--tls-cert), or neither", StringComparison.Ordinal),
            "the plain host says why it refused");

        var toB = await ProcessRunner.CliAsync("migrate", "--api", a.Api, vm.Id, "--to", b.MigrationEndpoint);
        Assert.True(toB.ExitCode == 0, toB.Error + a.Log + b.Log);
        Assert.Equal(VmState.Running, (await clientB.GetVmAsync(vm.Id)).State);

        var other = await clientPlain.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("idle"), 32UL << 20));
        var fromPlain = await ProcessRunner.CliAsync("migrate", "--api", plain.Api, other.Id, "--to", b.MigrationEndpoint);
        Assert.Equal(1, fromPlain.ExitCode);
        Assert.Equal($"migration: {other.Id}: refused by the destination: it requires TLS, and this host has none (--tls-cert, --tls-ca); it keeps running here\n", fromPlain.Error);
        Assert.Equal(VmState.Running, (await clientPlain.GetVmAsync(other.Id)).State);
        await Eventually.UntilAsync(
            () => Task.FromResult(b.Log),
            log => log.Contains("the source does not use TLS, but this host requires it: both hosts need TLS (--tls-cert), or neither", StringComparison.Ordinal),
            "the TLS host says why it refused");
    }

    [Fact]
    public async Task A_host_that_does_not_trust_the_destinations_certificate_keeps_its_vm()
    {
        var secret = TestDaemon.WriteSecret(_directory, "the same secret on every host", OwnerOnly);
        using var stranger = TestCertificates.SelfSigned("stranger");
        var pem = WritePemWithKey(_certificate, Path.Combine(_directory, "host.pem"));
        var strangerPem = WritePemWithKey(stranger, Path.Combine(_directory, "stranger.pem"));
        using var a = await DaemonProcess.StartAsync("a", _directory, secret, null, "127.0.0.1", "--tls-cert", pem, "--tls-pin", MigrationFingerprint());
        using var b = await DaemonProcess.StartAsync("b", _directory, secret, null, "127.0.0.1", "--tls-cert", strangerPem, "--tls-pin", MigrationFingerprint());
        using var clientA = a.Client();
        var vm = await clientA.CreateVmAsync(new CreateVmRequest(RepositoryPaths.Guest("idle"), 32UL << 20));

        var refused = await ProcessRunner.CliAsync("migrate", "--api", a.Api, vm.Id, "--to", b.MigrationEndpoint);

        Assert.Equal(1, refused.ExitCode);
        Assert.Equal(
            $"migration: {vm.Id}: the destination's certificate is not trusted: CN=stranger (SHA-256 {stranger.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256)}) is not pinned; it keeps running here\n",
            refused.Error);
        Assert.Equal(VmState.Running, (await clientA.GetVmAsync(vm.Id)).State);
        await Eventually.UntilAsync(
            () => Task.FromResult(b.Log),
            log => log.Contains("does the source trust this host's certificate (--tls-ca or --tls-pin)?", StringComparison.Ordinal),
            "the destination says what probably went wrong");
    }

    [Fact]
    public async Task Tls_options_that_cannot_work_stop_the_start_in_one_line()
    {
        var secret = TestDaemon.WriteSecret(_directory, "correct horse battery staple", OwnerOnly);
        var pem = WritePemWithKey(_certificate, Path.Combine(_directory, "host.pem"));
        var certificateOnly = WritePem(_certificate, Path.Combine(_directory, "cert.pem"));
        File.SetUnixFileMode(certificateOnly, OwnerOnly);
        var shared = WritePemWithKey(_certificate, Path.Combine(_directory, "shared.pem"));
        File.SetUnixFileMode(shared, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var empty = Path.Combine(_directory, "empty.pem");
        await File.WriteAllTextAsync(empty, "not a certificate\n");

        await Refused($"--tls-cert needs --tls-ca FILE or --tls-pin SHA256: what this host trusts in a destination's certificate", pem, null);
        await Refused("--tls-ca and --tls-pin need --tls-cert: a host that sends over TLS must also receive over it", null, certificateOnly);
        await Refused($"TLS certificate file {shared} has mode 0644: it holds the private key, so group and others must have no access (chmod 600 {shared})", shared, certificateOnly);
        await Refused($"TLS trust file {empty} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", pem, empty);
        await Refused("--tls-pin 'abc' is not a SHA-256 fingerprint (64 hex digits, colons allowed)", pem, null, "abc");
        var missingKey = await Assert.ThrowsAsync<HostConfigurationException>(() => StartAsync(certificateOnly, certificateOnly));
        Assert.StartsWith($"TLS certificate file {certificateOnly}: ", missingKey.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', missingKey.Message);

        async Task Refused(string message, string? certificate, string? trust, params string[] pins)
        {
            var e = await Assert.ThrowsAsync<HostConfigurationException>(() => StartAsync(certificate, trust, pins));
            Assert.Equal(message, e.Message);
        }

        Task<HostDaemon> StartAsync(string? certificate, string? trust, params string[] pins) => HostDaemon.StartAsync(new HostDaemonOptions
        {
            Name = "tls-host",
            Api = ApiAddress.Unix(Path.Combine(_directory, "api.sock")),
            SecretFile = secret,
            TlsCertificateFile = certificate,
            TlsTrustFile = trust,
            TlsPins = pins,
        });
    }

    public void Dispose()
    {
        _certificate.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The certificate and its key as one PEM file of mode 0600, as <c>host --tls-cert</c> takes it.</summary>
    private static string WritePemWithKey(X509Certificate2 certificate, string path)
    {
        using var key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(path, certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n");
        File.SetUnixFileMode(path, OwnerOnly);
        return path;
    }

    /// <summary>The certificate alone, as <c>host --tls-ca</c> takes it.</summary>
    private static string WritePem(X509Certificate2 certificate, string path)
    {
        File.WriteAllText(path, certificate.ExportCertificatePem() + "\n");
        return path;
    }

    private string MigrationFingerprint() => Core.Transfer.MigrationTls.Fingerprint(_certificate);
}
