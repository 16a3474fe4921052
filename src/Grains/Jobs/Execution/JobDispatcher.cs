using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>
/// Delivers assignments and cancellations: straight to a local executor or edge node, else as a call to the node's
/// host grain on its silo, or to its relay grain when a standalone gateway serves it (the registry marks it relayed).
/// </summary>
internal sealed partial class JobDispatcher(JobExecutorHost executors, EdgeNodes edges, NodeDirectory directory, IGrainFactory grains, ILogger<JobDispatcher> logger)
{
    public void Dispatch(JobDispatch dispatch)
    {
        if (executors.TryDispatch(dispatch) || edges.TryDispatch(dispatch))
        {
            return;
        }

        // One-way: the job's deadlines cover a lost message (the assignment times out and goes to another node).
        switch (directory.TryGet(dispatch.NodeId))
        {
            case { Relayed: true }:
                _ = grains.GetGrain<IEdgeRelayGrain>(dispatch.NodeId).AssignAsync(dispatch);
                break;
            case { } node:
                _ = Host(node).AssignAsync(dispatch);
                break;
            default:
                LogDispatchFailed(dispatch.JobId, dispatch.NodeId);
                break;
        }
    }

    /// <summary>Stops a cancelled job's runs on <paramref name="nodeIds"/>, wherever they are hosted.</summary>
    public void Cancel(string jobId, IEnumerable<string> nodeIds)
    {
        executors.Cancel(jobId);
        edges.Cancel(jobId);
        foreach (var nodeId in nodeIds.Distinct(StringComparer.Ordinal))
        {
            if (executors.IsLocal(nodeId) || edges.IsAttached(nodeId))
            {
                continue;
            }

            switch (directory.TryGet(nodeId))
            {
                case { Relayed: true }:
                    _ = grains.GetGrain<IEdgeRelayGrain>(nodeId).CancelAsync(jobId);
                    break;
                case { } node:
                    _ = Host(node).CancelAsync(jobId);
                    break;
            }
        }
    }

    private INodeHostGrain Host(Grains.Interfaces.Models.NodeInfo node) => grains.GetGrain<INodeHostGrain>(INodeHostGrain.KeyOf(node.SiloId, node.NodeId));

    [LoggerMessage(EventId = JobsEventId.DispatchFailed, Level = LogLevel.Warning, Message = "Assignment of job {JobId} to node {NodeId} not delivered: the node is unknown to this silo's directory; it will time out and be reassigned")]
    private partial void LogDispatchFailed(string jobId, string nodeId);
}
