using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Jobs.Scheduling;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>
/// Collects validation outcomes per node and writes them to the reputation grains in batches: one write per node
/// per flush instead of one per job. The scheduler sees every change at once.
/// </summary>
internal sealed partial class ReputationRecorder(
    IGrainFactory grains,
    JobScheduler scheduler,
    [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
    IOptions<ComputeOptions> options,
    ILogger<ReputationRecorder> logger) : BackgroundService
{
    private readonly Lock _lock = new();
    private Dictionary<string, (int Agreements, int Disagreements, int Timeouts)> _pending = new(StringComparer.Ordinal);

    public void Record(string nodeId, int agreements, int disagreements, int timeouts)
    {
        AddPending(nodeId, agreements, disagreements, timeouts);

        // The scheduler acts on the new score before it is written, so a liar loses jobs immediately.
        scheduler.ObserveReputation(nodeId, NodeReputationGrain.Apply(scheduler.ReputationOf(nodeId), agreements, disagreements, timeouts));
    }

    private void AddPending(string nodeId, int agreements, int disagreements, int timeouts)
    {
        lock (_lock)
        {
            var (a, d, t) = _pending.GetValueOrDefault(nodeId);
            _pending[nodeId] = (a + agreements, d + disagreements, t + timeouts);
        }
    }

    /// <summary>Writes everything recorded so far.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        Dictionary<string, (int Agreements, int Disagreements, int Timeouts)> batch;
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                return;
            }

            batch = _pending;
            _pending = new(StringComparer.Ordinal);
        }

        var now = time.GetUtcNow();
        foreach (var (nodeId, (a, d, t)) in batch)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                var reputation = await grains.GetGrain<INodeReputationGrain>(nodeId).RecordAsync(new ReputationDelta(a, d, t, now));
                scheduler.ObserveReputation(nodeId, reputation.Score);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFlushFailed(nodeId, ex);
                AddPending(nodeId, a, d, t);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.ReputationFlushInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            await FlushAsync(stoppingToken);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFlushFailed("*", ex);
        }
    }

    [LoggerMessage(EventId = JobsEventId.ReputationFlushFailed, Level = LogLevel.Warning, Message = "Writing reputation of node {NodeId} failed; it is kept for the next flush")]
    private partial void LogFlushFailed(string nodeId, Exception exception);
}
