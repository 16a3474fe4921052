using System.Collections.Concurrent;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>In-process change notifications per job, for server-sent events; other silos' changes are seen by polling.</summary>
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

    /// <summary>Waits until the job changes (in this process) or <paramref name="timeout"/> passes.</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="timeout">The longest wait; other processes' changes are noticed when it passes.</param>
    /// <param name="time">The clock.</param>
    /// <param name="ct">Cancels the wait.</param>
    /// <returns>True when woken by a change.</returns>
    public async Task<bool> WaitAsync(string jobId, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        var waiter = _waiters.GetOrAdd(jobId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            await waiter.Task.WaitAsync(timeout, time, ct);
            return true;
        }
        catch (TimeoutException)
        {
            _waiters.TryRemove(new KeyValuePair<string, TaskCompletionSource>(jobId, waiter));
            return false;
        }
    }
}
