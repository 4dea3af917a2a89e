using System.Net.Sockets;

namespace Migration.Networking.Relay;

/// <summary>The relay's client side: accepting clients on a VM's public ports and moving their bytes, whatever host carries them.</summary>
internal sealed partial class RelaySession
{
    private async Task AcceptAsync(RelayPublicListener listener)
    {
        var token = listener.Stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.Socket.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (!token.IsCancellationRequested)
            {
                // A client that reset while queued, or no descriptors left: the listener itself goes on.
                continue;
            }

            client.NoDelay = true;
            var stream = new RelayClientStream(server.NextId(), listener, client);
            lock (_gate)
            {
                if (_streams.Count >= MaxStreams || !_listeners.ContainsKey(listener.Id))
                {
                    client.LingerState = new LingerOption(true, 0);
                    client.Dispose();
                    continue;
                }

                _streams.Add(stream.Id, stream);
                if (listener.Active && listener.Owner is { Closed: false } owner)
                {
                    Offer(stream, owner);
                }
            }

            _ = ReadClientAsync(stream);
            _ = WriteClientAsync(stream);
        }
    }

    private async Task ReadClientAsync(RelayClientStream stream)
    {
        var buffer = new byte[RelayProtocol.ChunkSize];
        var token = stream.Stop.Token;
        try
        {
            while (true)
            {
                int room;
                while (true)
                {
                    lock (_gate)
                    {
                        room = stream.FromClient.Free;
                    }

                    if (room > 0)
                    {
                        break;
                    }

                    await stream.Room.WaitAsync(token).ConfigureAwait(false);
                }

                var n = await stream.Client.ReceiveAsync(buffer.AsMemory(0, Math.Min(room, buffer.Length)), SocketFlags.None, token).ConfigureAwait(false);
                lock (_gate)
                {
                    if (stream.Ended)
                    {
                        return;
                    }

                    if (n == 0)
                    {
                        stream.ClientEof = true;
                        if (stream.Owner is { } eofOwner)
                        {
                            eofOwner.Link.Send(RelayFrameType.Eof, stream.Id);
                        }

                        return;
                    }

                    stream.FromClient.Enqueue(buffer.AsSpan(0, n));
                    stream.Owner?.Link.Send(RelayFrameType.Data, stream.Id, buffer.AsSpan(0, n));
                }
            }
        }
        catch (SocketException)
        {
            ClientFailed(stream);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private async Task WriteClientAsync(RelayClientStream stream)
    {
        var buffer = new byte[RelayProtocol.ChunkSize];
        var token = stream.Stop.Token;
        var finSent = false;
        try
        {
            while (true)
            {
                await stream.Output.WaitAsync(token).ConfigureAwait(false);
                while (true)
                {
                    int n;
                    bool finish;
                    bool close;
                    lock (_gate)
                    {
                        n = stream.ToClient.Peek(buffer);
                        finish = n == 0 && (stream.HostFin || stream.HostClose) && !finSent;
                        close = n == 0 && stream.HostClose;
                    }

                    if (n > 0)
                    {
                        await stream.Client.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, token).ConfigureAwait(false);
                        lock (_gate)
                        {
                            stream.ToClient.Discard(n);
                            stream.Written += n;
                            stream.Owner?.Link.Send(RelayFrameType.Ack, stream.Id, RelayProtocol.Counter(stream.Written));
                        }

                        continue;
                    }

                    if (finish)
                    {
                        stream.Client.Shutdown(SocketShutdown.Send);
                        finSent = true;
                    }

                    if (close)
                    {
                        lock (_gate)
                        {
                            End(stream, reset: false);
                        }

                        return;
                    }

                    break;
                }
            }
        }
        catch (SocketException)
        {
            ClientFailed(stream);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>The client reset: its host hears of it now, or when one attaches; then the stream is forgotten.</summary>
    private void ClientFailed(RelayClientStream stream)
    {
        lock (_gate)
        {
            if (stream.Ended || stream.ClientReset)
            {
                return;
            }

            stream.ClientReset = true;
            stream.Room.Set();
            if (stream.Owner is { } owner)
            {
                owner.Link.Send(RelayFrameType.Reset, stream.Id);
                End(stream, reset: true);
            }
            else if (!stream.Admitted)
            {
                End(stream, reset: true);
            }
        }
    }
}
