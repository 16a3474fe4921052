using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>Delivers assignments and cancellations: straight to a local executor, else as a call to the node's host grain on its silo.</summary>
internal sealed partial class JobDispatcher(JobExecutorHost executors, EdgeNodes edges, NodeDirectory directory, IGrainFactory grains, ILogger<JobDispatcher> logger)
{
    public void Dispatch(JobDispatch dispatch)
    {
        if (executors.TryDispatch(dispatch) || edges.TryDispatch(dispatch))
        {
            return;
        }

        if (Host(dispatch.NodeId) is { } host)
        {
            // One-way: the job's deadlines cover a lost message (the assignment times out and goes to another node).
            _ = host.AssignAsync(dispatch);
        }
        else
        {
            LogDispatchFailed(dispatch.JobId, dispatch.NodeId);
        }
    }

    /// <summary>Stops a cancelled job's runs on <paramref name="nodeIds"/>, wherever they are hosted.</summary>
    public void Cancel(string jobId, IEnumerable<string> nodeIds)
    {
        executors.Cancel(jobId);
        edges.Cancel(jobId);
        foreach (var nodeId in nodeIds.Distinct(StringComparer.Ordinal))
        {
            if (!executors.IsLocal(nodeId) && !edges.IsAttached(nodeId) && Host(nodeId) is { } host)
            {
                _ = host.CancelAsync(jobId);
            }
        }
    }

    private INodeHostGrain? Host(string nodeId) =>
        directory.TryGet(nodeId) is { } node ? grains.GetGrain<INodeHostGrain>(INodeHostGrain.KeyOf(node.SiloId, node.NodeId)) : null;

    [LoggerMessage(EventId = JobsEventId.DispatchFailed, Level = LogLevel.Warning, Message = "Assignment of job {JobId} to node {NodeId} not delivered: the node is unknown to this silo's directory; it will time out and be reassigned")]
    private partial void LogDispatchFailed(string jobId, string nodeId);
}
