namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>The job grain's outside effects: dispatch, reputation, change notifications.</summary>
internal sealed class JobEffects(JobDispatcher dispatcher, ReputationRecorder reputation, JobEvents events, IAssignmentNotifier? notifier = null) : IJobEffects
{
    public void Dispatch(JobDispatch dispatch) => dispatcher.Dispatch(dispatch);

    public void Reputation(string nodeId, int agreements, int disagreements, int timeouts) => reputation.Record(nodeId, agreements, disagreements, timeouts);

    public void Changed(string jobId)
    {
        events.Notify(jobId);
        notifier?.JobChanged(jobId);
    }
}
