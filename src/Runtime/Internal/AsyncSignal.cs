namespace Xmbl.Cluster.Runtime.Internal;

/// <summary>A wake-up that many waiters can await; <see cref="Set"/> releases everyone currently waiting.</summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _current = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A task that completes at the next <see cref="Set"/>.</summary>
    public Task WaitTask => Volatile.Read(ref _current).Task;

    public void Set() => Interlocked.Exchange(ref _current, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
