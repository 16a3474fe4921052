using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Internal;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>
/// Ticks the unfinished jobs active on this silo when their next deadline comes (<see cref="IJobGrain.TickAsync"/>).
/// </summary>
/// <remarks>
/// In memory, on the silo's clock (a test clock under test): the deadlines themselves are in each job's stored state,
/// so nothing is lost with a silo; the job's next activation, anywhere, puts it back on a ticker
/// (<see cref="JobSweeper"/> makes sure that happens). A reminder per job would cost two table writes per job.
/// </remarks>
internal sealed partial class JobDeadlineTicker(IGrainFactory grains, [FromKeyedServices(ClusterClock.Key)] TimeProvider time, ILogger<JobDeadlineTicker> logger) : BackgroundService
{
    /// <summary>How often due jobs are looked for; deadlines are seconds apart at the least.</summary>
    private static readonly TimeSpan Resolution = TimeSpan.FromSeconds(1);

    /// <summary>The most ticks in flight at once, so a burst of deadlines cannot flood the silo.</summary>
    private const int MaxConcurrentTicks = 64;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _due = new(StringComparer.Ordinal);
    private readonly PriorityQueue<string, DateTimeOffset> _queue = new();

    /// <summary>Jobs waiting for a tick.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _due.Count;
            }
        }
    }

    /// <summary>Ticks <paramref name="jobId"/> at <paramref name="at"/>, or earlier if it is already due earlier.</summary>
    /// <remarks>A job that changes often (retried placement, reports) must not keep pushing its tick away.</remarks>
    public void Schedule(string jobId, DateTimeOffset at)
    {
        lock (_lock)
        {
            if (_due.TryGetValue(jobId, out var scheduled) && scheduled <= at)
            {
                return;
            }

            _due[jobId] = at;
            _queue.Enqueue(jobId, at);
        }
    }

    /// <summary>Stops ticking <paramref name="jobId"/> (it is final).</summary>
    public void Forget(string jobId)
    {
        lock (_lock)
        {
            // The queue entry stays until it surfaces and is found stale.
            _due.Remove(jobId);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var slots = new SemaphoreSlim(MaxConcurrentTicks);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Resolution, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            foreach (var jobId in TakeDue(time.GetUtcNow()))
            {
                await slots.WaitAsync(stoppingToken);
                _ = TickAsync(jobId, slots);
            }
        }
    }

    private List<string> TakeDue(DateTimeOffset now)
    {
        var due = new List<string>();
        lock (_lock)
        {
            while (_queue.TryPeek(out var jobId, out var at) && at <= now)
            {
                _queue.Dequeue();
                // Only the entry of the current schedule counts; older ones of a rescheduled job are stale.
                if (_due.TryGetValue(jobId, out var current) && current == at)
                {
                    _due.Remove(jobId);
                    due.Add(jobId);
                }
            }
        }

        return due;
    }

    private async Task TickAsync(string jobId, SemaphoreSlim slots)
    {
        try
        {
            // The job reschedules itself (on the silo where it is active) as part of the tick.
            await grains.GetGrain<IJobGrain>(jobId).TickAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogTickFailed(jobId, ex);
            Schedule(jobId, time.GetUtcNow() + Resolution);
        }
        finally
        {
            slots.Release();
        }
    }

    [LoggerMessage(EventId = JobsEventId.TickFailed, Level = LogLevel.Warning, Message = "Ticking job {JobId} failed; it is tried again")]
    private partial void LogTickFailed(string jobId, Exception exception);
}
