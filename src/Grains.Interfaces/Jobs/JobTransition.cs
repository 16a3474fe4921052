namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>One recorded change of a job's status.</summary>
/// <param name="At">When it happened.</param>
/// <param name="From">The status before (equal to <paramref name="To"/> for the submission).</param>
/// <param name="To">The status after.</param>
/// <param name="NodeId">The node whose action caused it, if any.</param>
/// <param name="Reason">Why, in words.</param>
[GenerateSerializer, Immutable, Alias("xmbl.JobTransition")]
public sealed record JobTransition(DateTimeOffset At, JobStatus From, JobStatus To, string? NodeId, string Reason);
