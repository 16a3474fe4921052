using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>The job grain's outside effects: dispatch, cancellation and reputation.</summary>
internal sealed class JobEffects(JobDispatcher dispatcher, ReputationRecorder reputation) : IJobEffects
{
    public void Dispatch(JobDispatch dispatch) => dispatcher.Dispatch(dispatch);

    public void StopRuns(string jobId, IEnumerable<string> nodeIds) => dispatcher.Cancel(jobId, nodeIds);

    public void Reputation(string nodeId, int agreements, int disagreements, int timeouts) => reputation.Record(nodeId, agreements, disagreements, timeouts);
}
