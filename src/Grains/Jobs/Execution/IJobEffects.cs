using Xmbl.Cluster.Grains.Interfaces.Jobs;
namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>What a job's state machine asks of the outside world while it runs a transition.</summary>
internal interface IJobEffects
{
    /// <summary>Hands an assignment to the node's executor (in process, or as a call to its host grain on another silo).</summary>
    void Dispatch(JobDispatch dispatch);

    /// <summary>Adds validation outcomes to a node's reputation.</summary>
    void Reputation(string nodeId, int agreements, int disagreements, int timeouts);

    /// <summary>Stops a cancelled job's runs on its nodes, wherever they are hosted.</summary>
    void StopRuns(string jobId, IEnumerable<string> nodeIds);
}
