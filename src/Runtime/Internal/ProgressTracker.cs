namespace Xmbl.Cluster.Runtime.Internal;

/// <summary>
/// Records the clock time of the last completed iteration of a background loop, so tests driving a manual clock can
/// wait for "the loop has fully processed time T" instead of sleeping.
/// </summary>
internal sealed class ProgressTracker
{
    private readonly List<(DateTimeOffset AtLeast, TaskCompletionSource Done)> _waiters = [];
    private DateTimeOffset _last = DateTimeOffset.MinValue;
    private long _iterations;

    public long Iterations => Interlocked.Read(ref _iterations);

    public void Report(DateTimeOffset now)
    {
        List<TaskCompletionSource>? done = null;
        lock (_waiters)
        {
            _iterations++;
            if (now > _last)
            {
                _last = now;
            }

            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].AtLeast <= _last)
                {
                    (done ??= []).Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        if (done is not null)
        {
            foreach (var tcs in done)
            {
                tcs.TrySetResult();
            }
        }
    }

    /// <summary>Completes when an iteration that started at or after <paramref name="atLeast"/> has completed.</summary>
    public Task WaitAsync(DateTimeOffset atLeast, CancellationToken ct = default)
    {
        lock (_waiters)
        {
            if (_last >= atLeast)
            {
                return Task.CompletedTask;
            }

            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((atLeast, tcs));
            return tcs.Task.WaitAsync(ct);
        }
    }
}
