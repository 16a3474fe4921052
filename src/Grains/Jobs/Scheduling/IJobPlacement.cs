using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs.Scheduling;

/// <summary>Chooses nodes for jobs and keeps count of the slots it handed out.</summary>
internal interface IJobPlacement
{
    /// <summary>Picks the fittest eligible node for one role of a job and reserves a slot on it; null when no node is eligible now.</summary>
    /// <param name="request">The job, the role and the nodes to leave out.</param>
    PlacementChoice? Place(PlacementRequest request);

    /// <summary>Frees the slot of an assignment (reported, timed out or cancelled) and learns the node's latency.</summary>
    /// <param name="nodeId">The node.</param>
    /// <param name="jobId">The job.</param>
    /// <param name="assignmentId">The assignment.</param>
    /// <param name="runTime">How long the run took, when the node reported one.</param>
    void Release(string nodeId, string jobId, int assignmentId, TimeSpan? runTime);

    /// <summary>Why no node is eligible for the request now, node by node (e.g. "n1, n2 already on the job; n3 offline").</summary>
    /// <param name="request">The request that found no node.</param>
    string ExplainNoNode(PlacementRequest request);

    /// <summary>The highest price per million fuel a registered node asks now (a job that accepts any price holds at it); null when no node is known.</summary>
    decimal? HighestPrice();

    /// <summary>Remembers a job that could not be placed, to retry as soon as a slot frees.</summary>
    /// <param name="jobId">The job.</param>
    void EnqueuePending(string jobId);
}

/// <summary>What to place.</summary>
/// <param name="JobId">The job.</param>
/// <param name="AssignmentId">The assignment the slot is for.</param>
/// <param name="Spec">The job's spec (price cap).</param>
/// <param name="Role">The role to fill.</param>
/// <param name="ExcludedNodes">Nodes that may not take it (already assigned to this job, or timed out on it).</param>
/// <param name="AvoidOperators">Operators to avoid when another operator's node is eligible (the executor's, for validators).</param>
/// <param name="Deadline">When the reservation lapses if nobody releases it.</param>
/// <param name="SameEngineAs">A node of the job whose engine and version the chosen node must run (the executor, for
/// validators and tie-breakers: they compare result hashes, and fuel is counted differently by each engine); null for any.</param>
internal sealed record PlacementRequest(
    string JobId,
    int AssignmentId,
    JobSpec Spec,
    JobRole Role,
    IReadOnlyCollection<string> ExcludedNodes,
    IReadOnlyCollection<string> AvoidOperators,
    DateTimeOffset Deadline,
    string? SameEngineAs = null);

/// <summary>The node chosen.</summary>
/// <param name="NodeId">The node.</param>
/// <param name="Operator">Its operator.</param>
/// <param name="PricePerMillionFuel">Its price.</param>
internal sealed record PlacementChoice(string NodeId, string Operator, decimal PricePerMillionFuel);
