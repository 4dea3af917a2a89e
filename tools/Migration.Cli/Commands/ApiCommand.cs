using Migration.Host;
using Migration.Host.Api;
using Migration.Host.Client;

namespace Migration.Cli.Commands;

/// <summary>
/// Runs a command's conversation with the daemon: one <see cref="ApiClient"/>, and every refusal or unreachable daemon
/// turned into one line on stderr, <c>migration: DETAIL</c>, with exit code 1.
/// </summary>
internal static class ApiCommand
{
    public static async Task<int> RunAsync(ApiAddress address, Func<ApiClient, Task<int>> body)
    {
        using var client = new ApiClient(address);
        try
        {
            return await body(client).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ApiException or HostUnreachableException or ApiTokenException)
        {
            await Console.Error.WriteLineAsync($"migration: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: the command stops where it was; what it already printed stands.
            return 130;
        }
    }
}
