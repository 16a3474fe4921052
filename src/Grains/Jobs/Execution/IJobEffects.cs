namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>What a job's state machine asks of the outside world while it runs a transition.</summary>
internal interface IJobEffects
{
    /// <summary>Hands an assignment to the node's executor (in-process signal, database notification or, failing both, the executor's poll).</summary>
    void Dispatch(JobDispatch dispatch);

    /// <summary>Adds validation outcomes to a node's reputation.</summary>
    void Reputation(string nodeId, int agreements, int disagreements, int timeouts);

    /// <summary>Tells listeners (server-sent events) that the job changed.</summary>
    void Changed(string jobId);
}
