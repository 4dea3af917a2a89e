using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Migration.Host;
using Migration.Host.Api;
using Migration.Host.LiveMigration;

namespace Migration.Cli.Commands;

/// <summary>
/// <c>migration host --name NAME --api ADDR --migration-port PORT --secret-file FILE [--tls-cert FILE --tls-ca FILE|--tls-pin SHA256]</c>: runs the host daemon in the
/// foreground until SIGINT or SIGTERM, then terminates its VMs and removes its socket.
/// </summary>
internal static class HostCommand
{
    public static Command Create()
    {
        var name = new Option<string>("--name")
        {
            Description = "this host's name, as the API and migration peers report it (default: the machine's name)",
            DefaultValueFactory = _ => Environment.MachineName,
        };
        var api = ApiOptions.Api(forDaemon: true);
        var migrationPort = new Option<int>("--migration-port")
        {
            Description = "TCP port for incoming live migrations (0: any free port)",
            Required = true,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > 65535)
                {
                    result.AddError($"--migration-port: '{text}' is not a port number (0..65535)");
                }

                return port;
            },
        };
        var secretFile = new Option<FileInfo>("--secret-file")
        {
            Description = "file holding the secret shared with the other hosts for migration (mode 0600)",
            Required = true,
        };
        var migrationAddress = new Option<IPAddress>("--migration-address")
        {
            Description = "address to accept incoming migrations on (default 127.0.0.1; a host in a network namespace gives its own)",
            DefaultValueFactory = _ => IPAddress.Loopback,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!IPAddress.TryParse(text, out var address))
                {
                    result.AddError($"--migration-address: '{text}' is not an IP address");
                    return IPAddress.Loopback;
                }

                return address;
            },
        };
        var network = new Option<NetworkBackend?>("--network")
        {
            Description = "socket backend: auto (TCP repair when permitted, else the relay when --relay is given, else plain), repair, relay, plain",
            HelpName = "auto|repair|relay|plain",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                switch (text)
                {
                    case "auto":
                        return null;
                    case "repair":
                        return NetworkBackend.Repair;
                    case "plain":
                        return NetworkBackend.Plain;
                    case "relay":
                        return NetworkBackend.Relay;
                    default:
                        result.AddError($"--network: '{text}' is not auto, repair, relay or plain");
                        return null;
                }
            },
        };
        var relay = new Option<IPEndPoint?>("--relay")
        {
            Description = "the relay (migration relay --listen) for the relay backend; it must hold the same secret",
            HelpName = "HOST:PORT",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port != 0)
                {
                    return endpoint;
                }

                result.AddError($"--relay: '{text}' is not HOST:PORT (an IP address and a port)");
                return null;
            },
        };
        var tlsCertificate = new Option<FileInfo?>("--tls-cert")
        {
            Description = "TLS on the migration channel: this host's certificate and key, one PEM file (mode 0600) or a PFX without a password",
            HelpName = "FILE",
        };
        var tlsTrust = new Option<FileInfo?>("--tls-ca")
        {
            Description = "PEM certificates this host trusts in a destination: the CA that issued the hosts' certificates, or those certificates",
            HelpName = "FILE",
        };
        var tlsPins = new Option<string[]>("--tls-pin")
        {
            Description = "a destination certificate's SHA-256 fingerprint, accepted as it is (repeatable)",
            HelpName = "SHA256",
            AllowMultipleArgumentsPerToken = false,
            DefaultValueFactory = _ => [],
        };
        var migrationTimeout = new Option<TimeSpan>("--migration-timeout")
        {
            Description = "longest wait on a migration peer, either way: authentication, a round's acknowledgement, the hand-over, a connection that moves no bytes (default 10s)",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(10),
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!Duration.TryParse(text, out var value) || value < TimeSpan.FromMilliseconds(100) || value > TimeSpan.FromHours(1))
                {
                    result.AddError($"--migration-timeout: '{text}' is not a duration from 100ms to 1h (examples: 500ms, 10s, 2m)");
                }

                return value;
            },
        };
        var quiet = new Option<bool>("--quiet") { Description = "log only warnings and errors, not each VM's creation and end" };
        var command = new Command("host", "Run the host daemon: VMs, the control API and the migration port, until SIGINT/SIGTERM")
        {
            name, api, migrationPort, migrationAddress, migrationTimeout, secretFile, network, relay, tlsCertificate, tlsTrust, tlsPins, quiet,
        };
        command.SetAction(parse => Run(new HostDaemonOptions
        {
            Name = parse.GetValue(name)!,
            Api = parse.GetValue(api)!,
            MigrationPort = parse.GetValue(migrationPort),
            SecretFile = parse.GetValue(secretFile)!.FullName,
            Network = parse.GetValue(network),
            Relay = parse.GetValue(relay),
            TlsCertificateFile = parse.GetValue(tlsCertificate)?.FullName,
            TlsTrustFile = parse.GetValue(tlsTrust)?.FullName,
            TlsPins = parse.GetValue(tlsPins) ?? [],
            LogLevel = parse.GetValue(quiet) ? LogLevel.Warning : LogLevel.Information,
            Migration = new TcpMigrationEndpoint { ListenAddress = parse.GetValue(migrationAddress)!, Timeout = parse.GetValue(migrationTimeout) },
        }));
        return command;
    }

    /// <summary>A synchronous action on purpose: the signals are handled here, so shutdown is never cut short by the parser's own cancellation timeout.</summary>
    private static int Run(HostDaemonOptions options)
    {
        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        HostDaemon daemon;
        try
        {
            daemon = HostDaemon.StartAsync(options, stop.Token).GetAwaiter().GetResult();
        }
        catch (HostConfigurationException e)
        {
            Console.Error.WriteLine($"migration: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 1;
        }

        Console.Error.WriteLine($"migration: host {daemon.Name} {daemon.Networks.Describe()}");
        if (daemon.TlsFingerprint is { } fingerprint)
        {
            Console.Error.WriteLine($"migration: host {daemon.Name} migration channel in TLS; this host's certificate has SHA-256 {fingerprint}");
        }

        var token = daemon.TokenFile is { } tokenFile ? $" (token in {tokenFile})" : "";
        Console.Error.WriteLine($"migration: host {daemon.Name} ready: api {daemon.Api}{token}, migration port {daemon.MigrationPort}");
        stop.Token.WaitHandle.WaitOne();
        Console.Error.WriteLine($"migration: host {daemon.Name} stopping: terminating {daemon.Vms.Count} VM(s)");
        daemon.StopAsync().GetAwaiter().GetResult();
        return 0;
    }
}
