namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>Why a node runs a job.</summary>
[GenerateSerializer, Alias("xmbl.JobRole")]
public enum JobRole
{
    /// <summary>Produces the result.</summary>
    Executor,

    /// <summary>Re-runs the job to check the executor's result hash.</summary>
    Validator,

    /// <summary>Re-runs the job after executor and validators disagreed; the majority wins.</summary>
    TieBreaker,
}
