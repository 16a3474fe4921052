using System.Collections.Concurrent;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>In-process change notifications per job, for server-sent events; other silos' changes are seen by polling.</summary>
/// <remarks>Subscribe before reading the job, then wait: a change between the read and the wait is not missed.</remarks>
public sealed class JobEvents
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);

    /// <summary>Wakes everyone waiting on the job.</summary>
    /// <param name="jobId">The job that changed.</param>
    public void Notify(string jobId)
    {
        if (_waiters.TryRemove(jobId, out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>A task that completes at the job's next change.</summary>
    /// <param name="jobId">The job.</param>
    /// <returns>The task.</returns>
    public Task Subscribe(string jobId) =>
        _waiters.GetOrAdd(jobId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Waits for a subscription's change or for <paramref name="timeout"/>.</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="subscription">What <see cref="Subscribe"/> returned.</param>
    /// <param name="timeout">The longest wait; other processes' changes are noticed when it passes.</param>
    /// <param name="time">The clock.</param>
    /// <param name="ct">Cancels the wait.</param>
    /// <returns>True when woken by a change.</returns>
    public async Task<bool> WaitAsync(string jobId, Task subscription, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        try
        {
            await subscription.WaitAsync(timeout, time, ct);
            return true;
        }
        catch (TimeoutException)
        {
            Unsubscribe(jobId, subscription);
            return false;
        }
    }

    /// <summary>Drops a subscription nobody waits on any more.</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="subscription">What <see cref="Subscribe"/> returned.</param>
    public void Unsubscribe(string jobId, Task subscription)
    {
        if (_waiters.TryGetValue(jobId, out var waiter) && ReferenceEquals(waiter.Task, subscription))
        {
            _waiters.TryRemove(new KeyValuePair<string, TaskCompletionSource>(jobId, waiter));
        }
    }
}
