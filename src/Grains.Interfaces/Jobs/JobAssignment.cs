namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>One node's assignment to run a job, and what came of it.</summary>
/// <param name="Id">Number of the assignment within the job, from 1.</param>
/// <param name="NodeId">The node.</param>
/// <param name="Role">Why it runs the job.</param>
/// <param name="AssignedAt">When it was assigned.</param>
/// <param name="Deadline">When it counts as timed out without a report.</param>
/// <param name="Status">What came of it.</param>
/// <param name="PricePerMillionFuel">The node's price when it was assigned.</param>
/// <param name="ReportedAt">When the node reported, if it did.</param>
/// <param name="ResultHash">The reported SHA-256 over output, exit code, fuel and outcome.</param>
/// <param name="Fuel">The reported fuel.</param>
/// <param name="ExitCode">The reported exit code.</param>
/// <param name="Outcome">The reported outcome.</param>
/// <param name="Agreed">After the decision: whether the node's hash is the accepted one.</param>
/// <param name="Detail">A timeout or failure reason, or the trap message.</param>
/// <param name="NodeTime">How long the node ran it, as the node reported (runs cut off at the wall-clock limit
/// included); null when the node never reported.</param>
[GenerateSerializer, Immutable, Alias("xmbl.JobAssignment")]
public sealed record JobAssignment(
    int Id,
    string NodeId,
    JobRole Role,
    DateTimeOffset AssignedAt,
    DateTimeOffset Deadline,
    AssignmentStatus Status,
    decimal PricePerMillionFuel,
    DateTimeOffset? ReportedAt,
    string? ResultHash,
    long? Fuel,
    int? ExitCode,
    RunOutcome? Outcome,
    bool? Agreed,
    string? Detail,
    TimeSpan? NodeTime = null);
