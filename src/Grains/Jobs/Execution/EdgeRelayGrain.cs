using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Options;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <inheritdoc cref="IEdgeRelayGrain"/>
/// <remarks>
/// One observer, not a list: a node has one stream, so a newer attach (the node reconnected, maybe to another gateway)
/// replaces the older. The observer expires after the node's death timeout without a renewal, so a gateway that died
/// leaves nothing callable behind once its nodes count as dead. Reentrant: a call to a gateway that stopped answering
/// waits for its response timeout, and must not hold up the node's next assignment or the renewal of a new observer.
/// </remarks>
[Reentrant]
internal sealed partial class EdgeRelayGrain(IOptions<NodeOptions> options, [FromKeyedServices(ClusterClock.Key)] TimeProvider time, ILogger<EdgeRelayGrain> logger)
    : Grain, IEdgeRelayGrain
{
    private readonly TimeSpan _expiry = options.Value.DeathTimeout;
    private IEdgeNodeObserver? _observer;
    private DateTimeOffset _expiresAt;

    public Task AttachAsync(IEdgeNodeObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _observer = observer;
        _expiresAt = time.GetUtcNow() + _expiry;
        return Task.CompletedTask;
    }

    public Task DetachAsync(IEdgeNodeObserver observer)
    {
        if (Equals(_observer, observer))
        {
            _observer = null;
            this.DeactivateOnIdle();
        }

        return Task.CompletedTask;
    }

    public async Task AssignAsync(JobDispatch dispatch)
    {
        ArgumentNullException.ThrowIfNull(dispatch);
        if (Current() is not { } observer)
        {
            LogNotDelivered(dispatch.JobId, dispatch.NodeId);
            return;
        }

        try
        {
            await observer.AssignAsync(dispatch);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            await LoseAsync(observer, ex);
        }
    }

    public async Task CancelAsync(string jobId)
    {
        if (Current() is not { } observer)
        {
            return;
        }

        try
        {
            await observer.CancelAsync(jobId);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            await LoseAsync(observer, ex);
        }
    }

    private IEdgeNodeObserver? Current()
    {
        if (_observer is not null && time.GetUtcNow() > _expiresAt)
        {
            // Not renewed within the death timeout: its gateway is gone, and the node counts as dead by now.
            _observer = null;
        }

        return _observer;
    }

    /// <summary>The gateway did not take the call: the node leaves the schedule now rather than after its death timeout.</summary>
    private async Task LoseAsync(IEdgeNodeObserver observer, Exception exception)
    {
        if (!Equals(_observer, observer))
        {
            // Replaced meanwhile by a newer attach: the node is served again, through the new observer.
            return;
        }

        _observer = null;
        var nodeId = this.GetPrimaryKeyString();
        LogLost(nodeId, exception);
        try
        {
            await GrainFactory.GetGrain<INodeGrain>(nodeId).RetireAsync(time.GetUtcNow());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRetireFailed(nodeId, ex);
        }
    }

    [LoggerMessage(EventId = JobsEventId.EdgeRelayNotDelivered, Level = LogLevel.Warning, Message = "Assignment of job {JobId} to edge node {NodeId} not delivered: no gateway serves the node now (none attached, or not renewed within the death timeout); it will time out and be reassigned")]
    private partial void LogNotDelivered(string jobId, string nodeId);

    [LoggerMessage(EventId = JobsEventId.EdgeRelayLost, Level = LogLevel.Warning, Message = "The gateway of edge node {NodeId} did not take a call; the node is retired, its open assignments will time out and be reassigned")]
    private partial void LogLost(string nodeId, Exception exception);

    [LoggerMessage(EventId = JobsEventId.EdgeRelayRetireFailed, Level = LogLevel.Warning, Message = "Retiring edge node {NodeId}, whose gateway did not take a call, failed; it is seen dead after the death timeout")]
    private partial void LogRetireFailed(string nodeId, Exception exception);
}
