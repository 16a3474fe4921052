namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>What a node needs to run its assignment.</summary>
/// <param name="JobId">The job.</param>
/// <param name="AssignmentId">The assignment being run.</param>
/// <param name="NodeId">The node running it.</param>
/// <param name="Role">Why the node runs it.</param>
/// <param name="Spec">The job's module, input and limits.</param>
[GenerateSerializer, Immutable, Alias("xmbl.JobWork")]
public sealed record JobWork(string JobId, int AssignmentId, string NodeId, JobRole Role, JobSpec Spec);
