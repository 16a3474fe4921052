namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>A job as the API shows it.</summary>
/// <param name="Id">The job id (also the grain key); time-ordered.</param>
/// <param name="Status">Where the job is now.</param>
/// <param name="Spec">What was submitted.</param>
/// <param name="CreatedAt">When it was submitted.</param>
/// <param name="UpdatedAt">When it last changed.</param>
/// <param name="ScheduledAt">When an executor was first assigned.</param>
/// <param name="ExecutedAt">When the first executor's result arrived.</param>
/// <param name="ValidatedAt">When the result was agreed.</param>
/// <param name="FinishedAt">When it reached a final status.</param>
/// <param name="Executor">The current (or last) executor node.</param>
/// <param name="Validators">The validator and tie-breaker nodes, in assignment order.</param>
/// <param name="Result">The accepted result, once agreed.</param>
/// <param name="Price">What the job charges: accepted fuel × the paid node's price per million fuel.</param>
/// <param name="FailureReason">Why it failed or was cancelled, or the trap message of an accepted failed run.</param>
/// <param name="Assignments">Every assignment, in order.</param>
/// <param name="Transitions">Every status change, in order.</param>
/// <param name="InputObjects">The stored objects the job reads (as submitted).</param>
/// <param name="OutputObject">Where the validated output was stored (<c>namespace/name</c>), once it was.</param>
/// <param name="Escrow">The job's escrow: what it holds and, once final, what it paid and refunded.</param>
/// <param name="TaskOutputs">A service task's validated outputs as stored, once they were.</param>
[GenerateSerializer, Immutable, Alias("xmbl.JobRecord")]
public sealed record JobRecord(
    string Id,
    JobStatus Status,
    JobSpec Spec,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ScheduledAt,
    DateTimeOffset? ExecutedAt,
    DateTimeOffset? ValidatedAt,
    DateTimeOffset? FinishedAt,
    string? Executor,
    IReadOnlyList<string> Validators,
    JobResult? Result,
    decimal? Price,
    string? FailureReason,
    IReadOnlyList<JobAssignment> Assignments,
    IReadOnlyList<JobTransition> Transitions,
    IReadOnlyList<string>? InputObjects = null,
    string? OutputObject = null,
    JobEscrow? Escrow = null,
    IReadOnlyList<StoredTaskOutput>? TaskOutputs = null)
{
    /// <summary>True for <see cref="JobStatus.Settled"/>, <see cref="JobStatus.Failed"/> and <see cref="JobStatus.Cancelled"/>.</summary>
    public bool IsFinal => IsFinalStatus(Status);

    /// <summary>Whether <paramref name="status"/> is final.</summary>
    /// <param name="status">The status.</param>
    /// <returns>True for settled, failed and cancelled.</returns>
    public static bool IsFinalStatus(JobStatus status) => status is JobStatus.Settled or JobStatus.Failed or JobStatus.Cancelled;
}
