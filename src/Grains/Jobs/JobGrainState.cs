using System.Text.Json.Serialization;
using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>Persistent state of a <see cref="JobGrain"/>: the spec, the status, every assignment and every transition.</summary>
internal sealed class JobGrainState
{
    public string? Id { get; set; }

    public JobSpec? Spec { get; set; }

    public JobStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? ScheduledAt { get; set; }

    public DateTimeOffset? ExecutedAt { get; set; }

    public DateTimeOffset? ValidatedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Tie-breaker slots opened after disagreements.</summary>
    public int TieBreakers { get; set; }

    public List<AssignmentState> Assignments { get; set; } = [];

    public List<JobTransition> Transitions { get; set; } = [];

    public JobResult? Result { get; set; }

    /// <summary>The accepted output; reports keep their own output only until the result is decided.</summary>
    public byte[]? Output { get; set; }

    public decimal? Price { get; set; }

    public string? FailureReason { get; set; }

    /// <summary>Silo restarts after a crash that found one of the job's assignments unfinished.</summary>
    public int Restarts { get; set; }

    /// <summary>The silo start that counted the last of <see cref="Restarts"/> (each start counts once).</summary>
    public string? LastRestart { get; set; }

    /// <summary>Slots without an open assignment that found no eligible node, and since when they wait; null when none waits.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<int, DateTimeOffset>? SlotWaitingSince { get; set; }

    /// <summary>Why the last attempt to settle the validated job failed; it is retried at every reminder tick.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SettleError { get; set; }

    /// <summary>Where the validated output was stored (<c>namespace/name</c>).</summary>
    public string? OutputObject { get; set; }

    /// <summary>A task's validated outputs as stored; null until they were (or for a plain job).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<StoredTaskOutput>? TaskOutputs { get; set; }

    /// <summary>Whether the task this job runs was told that the job is final.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool TaskNotified { get; set; }

    /// <summary>The account holding the job's escrow (the submitter); null for jobs stored before escrow existed.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EscrowAccount { get; set; }

    /// <summary>Micro-xmbl.c held at submission.</summary>
    public long Held { get; set; }

    /// <summary>Whether the hold has been settled (paid and refunded).</summary>
    public bool EscrowSettled { get; set; }

    /// <summary>What the settlement paid.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<Xmbl.Cluster.Grains.Interfaces.Ledger.EscrowPayout>? Payouts { get; set; }

    /// <summary>Micro-xmbl.c the settlement returned to the submitter.</summary>
    public long Refunded { get; set; }

    /// <summary>Why the last attempt to settle the escrow of a failed or cancelled job failed; retried at every tick.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EscrowError { get; set; }

    /// <summary>True while a final job's escrow still waits to be settled.</summary>
    [JsonIgnore]
    public bool EscrowOpen => EscrowAccount is not null && !EscrowSettled;

    public bool Exists => Spec is not null;
}
