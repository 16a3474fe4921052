namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>Delivers assignments: straight to a local executor, else by database notification to the silo hosting the node.</summary>
internal sealed class JobDispatcher(JobExecutorHost executors, IAssignmentNotifier? notifier = null)
{
    public void Dispatch(JobDispatch dispatch)
    {
        if (!executors.TryDispatch(dispatch))
        {
            // Another silo's node: notify it; its poll finds the assignment if the notification is lost.
            notifier?.Notify(dispatch);
        }
    }
}

/// <summary>Tells other silos about assignments of their nodes and about job changes (PostgreSQL NOTIFY in cluster mode).</summary>
internal interface IAssignmentNotifier
{
    void Notify(JobDispatch dispatch);

    /// <summary>Wakes the job's watchers (event streams, <c>--wait</c>) in other silos.</summary>
    void JobChanged(string jobId);

    /// <summary>Stops the job's runs in other silos (it was cancelled).</summary>
    void JobCancelled(string jobId);
}
