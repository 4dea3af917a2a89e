using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using Migration.Host;
using Migration.Networking.Relay;

namespace Migration.Cli.Commands;

/// <summary>
/// <c>migration relay --listen ADDR --secret-file FILE</c>: runs the connection relay in the foreground until SIGINT or
/// SIGTERM. Hosts link to it on ADDR; the ports their VMs listen on are opened here, and clients connect here.
/// </summary>
internal static class RelayCommand
{
    public static Command Create()
    {
        var listen = new Option<IPEndPoint>("--listen")
        {
            Description = "address and port where hosts link to the relay, e.g. 127.0.0.1:7300 (port 0: any free port)",
            Required = true,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!IPEndPoint.TryParse(text, out var endpoint) || !text.Contains(':', StringComparison.Ordinal))
                {
                    result.AddError($"--listen: '{text}' is not an address and port (example: 127.0.0.1:7300)");
                    return null;
                }

                return endpoint;
            },
        };
        var secretFile = new Option<FileInfo>("--secret-file")
        {
            Description = "file holding the secret the hosts share with the relay (mode 0600, at least 16 bytes)",
            Required = true,
        };
        var quiet = new Option<bool>("--quiet") { Description = "do not log hosts attaching and detaching" };
        var command = new Command("relay", "Run the connection relay: clients stay connected to it while their VM migrates between hosts")
        {
            listen, secretFile, quiet,
        };
        command.SetAction(parse => Run(parse.GetValue(listen)!, parse.GetValue(secretFile)!.FullName, parse.GetValue(quiet)));
        return command;
    }

    /// <summary>Synchronous, as the host command: the signals are handled here, so the relay closes its ports before exiting.</summary>
    private static int Run(IPEndPoint listen, string secretFile, bool quiet)
    {
        RelayServer relay;
        try
        {
            using var secret = HostSecret.Load(secretFile);
            relay = RelayServer.Start(listen, secret.Key, quiet ? null : line => Console.Error.WriteLine($"migration: {line}"));
        }
        catch (Exception e) when (e is HostConfigurationException or RelayException)
        {
            Console.Error.WriteLine($"migration: {e.Message}");
            return 1;
        }

        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        Console.Error.WriteLine($"migration: relay ready: hosts link to {relay.Endpoint}");
        stop.Token.WaitHandle.WaitOne();
        Console.Error.WriteLine("migration: relay stopping: its clients' connections close");
        relay.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }
}
