using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>One node's assignment inside <see cref="JobGrainState"/>.</summary>
internal sealed class AssignmentState
{
    public int Id { get; set; }

    /// <summary>0 is the executor; 1..V the validators; V+1.. the tie-breakers. A timed-out assignment is replaced in the same slot.</summary>
    public int Slot { get; set; }

    public string NodeId { get; set; } = "";

    public string Operator { get; set; } = "";

    public JobRole Role { get; set; }

    public DateTimeOffset AssignedAt { get; set; }

    public DateTimeOffset Deadline { get; set; }

    public AssignmentStatus Status { get; set; }

    public decimal PricePerMillionFuel { get; set; }

    public DateTimeOffset? ReportedAt { get; set; }

    public string? ResultHash { get; set; }

    public long? Fuel { get; set; }

    public int? ExitCode { get; set; }

    public RunOutcome? Outcome { get; set; }

    public string? Detail { get; set; }

    /// <summary>The run's duration as the node reported it (also for runs cut off at the wall-clock limit).</summary>
    public TimeSpan? NodeTime { get; set; }

    /// <summary>The reported output, kept until the job's result is decided.</summary>
    public byte[]? Output { get; set; }

    public bool? Agreed { get; set; }

    public JobAssignment ToRecord() => new(
        Id, NodeId, Role, AssignedAt, Deadline, Status, PricePerMillionFuel, ReportedAt, ResultHash, Fuel, ExitCode, Outcome, Agreed, Detail, NodeTime);
}
