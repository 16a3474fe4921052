namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>The state of one node's assignment to a job.</summary>
[GenerateSerializer, Alias("xmbl.AssignmentStatus")]
public enum AssignmentStatus
{
    /// <summary>Handed to the node; no report yet.</summary>
    Assigned,

    /// <summary>The node reported a result.</summary>
    Reported,

    /// <summary>The node did not report before the deadline (or ran out of wall time); the role went to another node.</summary>
    TimedOut,

    /// <summary>The job ended (cancelled, decided or failed) before the node reported.</summary>
    Cancelled,

    /// <summary>The node could not run the job and said why (<see cref="RunErrorReport"/>); the role went to another node.</summary>
    Failed,
}
