using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Migration.Host.Tests;

/// <summary>
/// One command to the kv guest: through redis-cli when it is installed (a real client, as the end-to-end tests of the
/// machine use), else a minimal RESP exchange here, so the test still runs on a machine without redis-tools.
/// </summary>
internal static class KvClient
{
    private static readonly string? RedisCli = ProcessRunner.Find("redis-cli");

    /// <summary>The reply as redis-cli prints it: OK, the value, or an empty string for nil.</summary>
    public static async Task<string> CommandAsync(int port, params string[] words)
    {
        if (RedisCli is not null)
        {
            var (code, output, error) = await ProcessRunner.RunAsync(
                RedisCli, ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), .. words], TimeSpan.FromSeconds(30));
            Assert.True(code == 0, $"redis-cli {string.Join(' ', words)} exited {code}: {error}");
            return output.TrimEnd('\n');
        }

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        var request = new StringBuilder().Append(CultureInfo.InvariantCulture, $"*{words.Length}\r\n");
        foreach (var word in words)
        {
            request.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(word)}\r\n{word}\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var line = await reader.ReadLineAsync() ?? throw new IOException("kv closed the connection without a reply");
        return line[0] switch
        {
            '+' or ':' or '-' => line[1..],
            '$' when line == "$-1" => "",
            '$' => await reader.ReadLineAsync() ?? "",
            _ => throw new IOException($"unexpected reply '{line}'"),
        };
    }
}
