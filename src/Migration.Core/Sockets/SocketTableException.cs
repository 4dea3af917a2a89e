namespace Migration.Core.Sockets;

/// <summary>A captured socket table that fails the sanity pass before restore; nothing of it was applied.</summary>
public sealed class SocketTableException : Exception
{
    public SocketTableException()
    {
    }

    public SocketTableException(string message)
        : base(message)
    {
    }

    public SocketTableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <param name="socketId">The offending socket's id; null when the problem is the table as a whole.</param>
    /// <param name="field">The field as a path from the socket, e.g. <c>ConnectionQueue[2].DatagramQueue</c>.</param>
    public SocketTableException(int? socketId, string field, string problem)
        : base(socketId is { } id ? $"socket {id}: {field} {problem}" : $"socket table: {field} {problem}")
    {
        SocketId = socketId;
        Field = field;
    }

    public int? SocketId { get; }

    public string? Field { get; }
}
