using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>Runs a job's module with its input and limits; deterministic for a given job id.</summary>
internal interface IJobRunner
{
    /// <summary>Runs the work; traps, exits and limit breaches are results, not exceptions.</summary>
    /// <param name="work">The job and the assignment.</param>
    /// <param name="ct">Stops the run (it then ends as <see cref="RunOutcome.WallTimeExceeded"/>).</param>
    /// <returns>The result.</returns>
    /// <exception cref="Modules.ModuleNotFoundException">The module's bytes are nowhere to be found.</exception>
    Task<RunResult> RunAsync(JobWork work, CancellationToken ct);
}
