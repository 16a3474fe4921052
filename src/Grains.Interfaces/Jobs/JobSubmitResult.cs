using Xmbl.Cluster.Grains.Interfaces.Ledger;

namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>What submitting a job did.</summary>
/// <param name="Job">The job, or null when it was refused.</param>
/// <param name="Hold">Micro-xmbl.c the job holds (or would have held) in escrow.</param>
/// <param name="ShortOf">When refused: the submitter's account, whose balance is below <paramref name="Hold"/>.</param>
[GenerateSerializer, Immutable, Alias("xmbl.JobSubmitResult")]
public sealed record JobSubmitResult(JobRecord? Job, long Hold, AccountSnapshot? ShortOf = null);
