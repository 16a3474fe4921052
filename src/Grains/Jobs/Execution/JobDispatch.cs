using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>An assignment on its way to a node's executor.</summary>
/// <param name="JobId">The job.</param>
/// <param name="AssignmentId">The assignment.</param>
/// <param name="NodeId">The node that runs it.</param>
/// <param name="Role">Why the node runs it.</param>
/// <param name="Spec">The spec when the sender has it (in-process), or null for the executor to fetch it.</param>
internal sealed record JobDispatch(string JobId, int AssignmentId, string NodeId, JobRole Role, JobSpec? Spec);
