namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>An assignment on its way to a node's executor.</summary>
/// <param name="JobId">The job.</param>
/// <param name="AssignmentId">The assignment.</param>
/// <param name="NodeId">The node that runs it.</param>
/// <param name="Role">Why the node runs it.</param>
/// <param name="Spec">The spec when the sender has it, or null for the executor to fetch it.</param>
[GenerateSerializer, Immutable, Alias("xmbl.JobDispatch")]
public sealed record JobDispatch(string JobId, int AssignmentId, string NodeId, JobRole Role, JobSpec? Spec);
