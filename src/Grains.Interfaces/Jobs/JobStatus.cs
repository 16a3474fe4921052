namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>Where a job is in its life; see docs/jobs.md for the state machine.</summary>
[GenerateSerializer, Alias("xmbl.JobStatus")]
public enum JobStatus
{
    /// <summary>Accepted, waiting for a node with free capacity at an acceptable price.</summary>
    Pending,

    /// <summary>Assigned to an executor (and its validators); running or about to run.</summary>
    Scheduled,

    /// <summary>The executor reported a result; no validator was asked yet or validation is about to start.</summary>
    Executed,

    /// <summary>Waiting for validators to re-run the job and report their hashes.</summary>
    Validating,

    /// <summary>Validators disagreed with the executor; a further node breaks the tie.</summary>
    Disputed,

    /// <summary>The result is agreed (by every node asked, or by the majority after a dispute).</summary>
    Validated,

    /// <summary>The agreed result was charged; final.</summary>
    Settled,

    /// <summary>No agreed result could be produced (timeouts, no eligible node, no majority); final.</summary>
    Failed,

    /// <summary>Cancelled by the submitter before it finished; final.</summary>
    Cancelled,
}
