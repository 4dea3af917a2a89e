using System.CommandLine;
using Migration.Core.Sockets;
using Migration.Host;
using Migration.Host.Vms;

namespace Migration.Cli.Commands;

/// <summary>Options and arguments shared by the commands that talk to a daemon: one definition, one error wording.</summary>
internal static class ApiOptions
{
    /// <summary><c>--api unix:/path.sock</c> or <c>--api 127.0.0.1:PORT</c>; the daemon may take port 0, a client may not.</summary>
    public static Option<ApiAddress> Api(bool forDaemon = false) => new("--api")
    {
        Description = forDaemon
            ? "where the control API listens: unix:/path/to.sock (mode 0600) or 127.0.0.1:PORT (0: any free port; bearer token in a file only this user reads)"
            : "the daemon's control API: unix:/path/to.sock or 127.0.0.1:PORT (its token file is found by itself)",
        Required = true,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (!ApiAddress.TryParse(text, forDaemon, out var address, out var error))
            {
                result.AddError($"--api: {error}");
            }

            return address!;
        },
    };

    public static Argument<string> VmId() => new("id") { Description = "the VM's id, as vm create printed it (vm-…)" };

    /// <summary>Port mappings for a daemon's VM: as <c>run --port</c>, but host port 0 is allowed (the host picks; vm show tells).</summary>
    public static Option<string[]> Ports() => new("--port")
    {
        Description = "map a guest port to the host: GUEST:HOST or GUEST:ADDR:HOST, HOST 0 = any free port (repeatable)",
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
        CustomParser = result =>
        {
            var specs = result.Tokens.Select(t => t.Value).ToArray();
            if (!PortMap.TryParse(specs, out _, out var errors))
            {
                foreach (var error in errors)
                {
                    result.AddError($"--port: {error}");
                }
            }

            return specs;
        },
    };

    public static Option<string?> Name() => new("--name") { Description = "a label for the VM (default: the file's name)" };

    /// <summary>Paths go to the daemon, which may run in another directory: they are made absolute here.</summary>
    public static string Absolute(string path) => Path.GetFullPath(path);
}
