using Migration.Core.Checkpoints;
using Migration.Core.Pages;
using Migration.Core.Sockets;
using Migration.Core.State;
using Migration.Core.Streams;

namespace Migration.Core.Tests.Fuzz;

/// <summary>
/// The contract every reader of untrusted bytes keeps: it succeeds, or it throws one of the project's own exceptions
/// with a one-line message; it never throws anything else and never hangs.
/// </summary>
public static class HostileInput
{
    /// <summary>A read of a few kilobytes takes microseconds; this only turns a hang into a failure.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static bool IsOwn(Exception e) =>
        e is MigrationStreamException or CheckpointException or StateSectionException or SocketTableException or PageBatchException;

    /// <summary>Runs <paramref name="read"/>; returns the refusal, or null when the input was accepted.</summary>
    public static Exception? Read(Func<Task> read)
    {
        var task = Task.Run(read);
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(Timeout))
        {
            Assert.Fail($"the read did not finish within {Timeout.TotalSeconds} s");
        }

        return task.Exception?.InnerException;
    }

    /// <summary>Synchronous form, on the calling thread, so allocations can be counted per thread.</summary>
    public static Exception? Read(Action read)
    {
        try
        {
            read();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    public static void AssertAcceptedOrRefused(Exception? outcome, object input)
    {
        if (outcome is null)
        {
            return;
        }

        Assert.True(IsOwn(outcome), $"{input}: {outcome.GetType().Name} escaped: {outcome}");
        Assert.False(string.IsNullOrWhiteSpace(outcome.Message), $"{input}: empty message");
        Assert.False(outcome.Message.Contains('\n', StringComparison.Ordinal), $"{input}: the message has more than one line: {outcome.Message}");
    }
}
