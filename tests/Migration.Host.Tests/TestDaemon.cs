using Migration.Host.Client;

namespace Migration.Host.Tests;

/// <summary>A daemon in-process on a Unix socket in a fresh temporary directory, with a client for it; disposing stops both and removes the directory.</summary>
internal sealed class TestDaemon : IAsyncDisposable
{
    private TestDaemon(string directory, HostDaemon daemon)
    {
        Directory = directory;
        Daemon = daemon;
        Client = new ApiClient(daemon.Api);
    }

    public string Directory { get; }

    public HostDaemon Daemon { get; }

    public ApiClient Client { get; }

    public static async Task<TestDaemon> StartAsync(int consoleBufferBytes = 1 << 20, TimeSpan? consoleWait = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("migration-host-").FullName;
        try
        {
            var secret = WriteSecret(directory, "correct horse battery staple\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var daemon = await HostDaemon.StartAsync(new HostDaemonOptions
            {
                Name = "test-host",
                Api = ApiAddress.Unix(Path.Combine(directory, "api.sock")),
                MigrationPort = 0,
                SecretFile = secret,
                ConsoleBufferBytes = consoleBufferBytes,
                ConsoleWait = consoleWait ?? TimeSpan.FromSeconds(10),
            });
            return new TestDaemon(directory, daemon);
        }
        catch
        {
            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public static string WriteSecret(string directory, string content, UnixFileMode mode)
    {
        var path = Path.Combine(directory, "secret");
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Daemon.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
