using System.Net;
using System.Net.Sockets;

namespace Migration.Machine.Tests.Transfer;

/// <summary>A real TCP connection on 127.0.0.1 (port 0): the source's end and the destination's end.</summary>
internal sealed class Loopback : IAsyncDisposable
{
    private Loopback(TcpClient source, TcpClient destination)
    {
        SourceClient = source;
        DestinationClient = destination;
        Source = source.GetStream();
        Destination = destination.GetStream();
    }

    public TcpClient SourceClient { get; }

    public TcpClient DestinationClient { get; }

    public NetworkStream Source { get; }

    public NetworkStream Destination { get; }

    public static async Task<Loopback> ConnectAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var source = new TcpClient();
        var connecting = source.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var destination = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await connecting.WaitAsync(TimeSpan.FromSeconds(10));
        return new Loopback(source, destination);
    }

    public async ValueTask DisposeAsync()
    {
        await Source.DisposeAsync();
        await Destination.DisposeAsync();
        SourceClient.Dispose();
        DestinationClient.Dispose();
    }
}
