using System.Text;

namespace Migration.Machine.Tests.Transfer;

/// <summary>A guest console the test reads while the vCPU writes it.</summary>
internal sealed class ConsoleCapture : IDisposable
{
    private readonly MemoryStream _buffer = new();

    public ConsoleCapture()
    {
        Stream = Stream.Synchronized(_buffer);
    }

    /// <summary>Locks itself around each call (MethodImplOptions.Synchronized), which is what <see cref="Text"/> locks on too.</summary>
    public Stream Stream { get; }

    public string Text
    {
        get
        {
            lock (Stream)
            {
                return Encoding.UTF8.GetString(_buffer.ToArray());
            }
        }
    }

    public void Dispose()
    {
        Stream.Dispose();
        _buffer.Dispose();
    }
}
