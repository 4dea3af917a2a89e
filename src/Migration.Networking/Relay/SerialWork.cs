namespace Migration.Networking.Relay;

/// <summary>
/// Runs one piece of work on the thread pool whenever it is scheduled, never twice at once, and again if it was
/// scheduled while running — so a link reader can hand work over without waiting for the stack's lock.
/// </summary>
internal sealed class SerialWork(Action work)
{
    private int _requests;
    private TaskCompletionSource? _idle;

    public void Schedule()
    {
        if (Interlocked.Increment(ref _requests) == 1)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static self => self.Run(), this, preferLocal: false);
        }
    }

    /// <summary>Completes once no run is in progress or pending (callers first make sure the work does nothing more).</summary>
    public Task IdleAsync()
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _idle, idle);
        Schedule();
        return idle.Task;
    }

    private void Run()
    {
        int seen;
        TaskCompletionSource? idle;
        do
        {
            // Only a wait begun before this pass of the work may be told "idle" after it. A run that was just ending
            // when IdleAsync began must not complete that new wait: the run IdleAsync scheduled has yet to do its pass,
            // and a caller told too early (disposing the link) would lose what that pass sends.
            idle = Volatile.Read(ref _idle);
            seen = Volatile.Read(ref _requests);
            work();
        }
        while (Interlocked.Add(ref _requests, -seen) != 0);

        idle?.TrySetResult();
    }
}
