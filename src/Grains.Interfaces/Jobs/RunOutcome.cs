namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>How a run of a job's module ended. Every value except <see cref="WallTimeExceeded"/> is deterministic.</summary>
[GenerateSerializer, Alias("xmbl.RunOutcome")]
public enum RunOutcome
{
    /// <summary>The WASI program exited (returned from <c>_start</c> or called <c>proc_exit</c>); the exit code says how.</summary>
    Exited,

    /// <summary>The exported function returned; its results were written to the output.</summary>
    Returned,

    /// <summary>The fuel limit was reached.</summary>
    OutOfFuel,

    /// <summary>The module trapped (unreachable, out-of-bounds access, division by zero, stack exhaustion, …).</summary>
    Trapped,

    /// <summary>The module tried to grow memory beyond the job's limit.</summary>
    MemoryExceeded,

    /// <summary>The module could not be compiled or linked, or the entry point does not exist or takes other arguments.</summary>
    Invalid,

    /// <summary>The run was stopped at the wall-clock limit; machine-dependent, so it is never accepted as a result.</summary>
    WallTimeExceeded,

    /// <summary>The module wrote past the output cap; the run ends at that write, with the output written before it.</summary>
    OutputLimitExceeded,
}
