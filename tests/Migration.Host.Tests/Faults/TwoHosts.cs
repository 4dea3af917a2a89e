using Migration.Host.Client;

namespace Migration.Host.Tests.Faults;

/// <summary>A source and a destination daemon with a client each; disposing kills both.</summary>
/// <param name="BaselineB">The destination's thread count before any migration.</param>
internal sealed record TwoHosts(DaemonProcess A, DaemonProcess B, int BaselineB) : IAsyncDisposable
{
    public ApiClient ClientA { get; } = A.Client();

    public ApiClient ClientB { get; } = B.Client();

    public ValueTask DisposeAsync()
    {
        ClientA.Dispose();
        ClientB.Dispose();
        A.Dispose();
        B.Dispose();
        return ValueTask.CompletedTask;
    }
}
