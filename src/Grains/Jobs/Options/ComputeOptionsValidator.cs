using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs.Options;

/// <summary>Checks <see cref="ComputeOptions"/> at start-up; messages name the key and the fix.</summary>
public sealed class ComputeOptionsValidator : IValidateOptions<ComputeOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, ComputeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string S = ComputeOptions.SectionName;
        if (options.DefaultFuel <= 0 || options.DefaultFuel > options.MaxFuel)
        {
            failures.Add($"{S}:DefaultFuel must be positive and at most {S}:MaxFuel ({options.MaxFuel}); it is {options.DefaultFuel}.");
        }

        if (options.DefaultMemoryPages < 1 || options.DefaultMemoryPages > options.MaxMemoryPages || options.MaxMemoryPages > 65_536)
        {
            failures.Add($"{S}:DefaultMemoryPages must be between 1 and {S}:MaxMemoryPages, which is at most 65536; they are {options.DefaultMemoryPages} and {options.MaxMemoryPages}.");
        }

        if (options.DefaultWallTimeLimit <= TimeSpan.Zero || options.DefaultWallTimeLimit > options.MaxWallTime)
        {
            failures.Add($"{S}:DefaultWallTimeLimit must be positive and at most {S}:MaxWallTime; set e.g. \"00:00:30\".");
        }

        if (!Xmbl.Cluster.Wasm.Engines.WasmEngineNames.IsKnown(options.Engine))
        {
            failures.Add($"{S}:Engine must be one of {string.Join(", ", Xmbl.Cluster.Wasm.Engines.WasmEngineNames.All)} (--engine); it is '{options.Engine}'.");
        }

        if (options.MaxAttempts < 1)
        {
            failures.Add($"{S}:MaxAttempts must be at least 1; it is {options.MaxAttempts}.");
        }

        if (options.MaxTieBreakers < 1)
        {
            failures.Add($"{S}:MaxTieBreakers must be at least 1 so a dispute can be decided; it is {options.MaxTieBreakers}.");
        }

        if (options.DispatchGrace < TimeSpan.Zero || options.PendingTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{S}:DispatchGrace must not be negative and {S}:PendingTimeout must be positive.");
        }

        if (options.RoleWaitTimeout <= TimeSpan.Zero || options.SettleTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{S}:RoleWaitTimeout and {S}:SettleTimeout must be positive, e.g. \"00:10:00\"; they are {options.RoleWaitTimeout} and {options.SettleTimeout}.");
        }

        if (options.SameFailureNodes < 2)
        {
            failures.Add($"{S}:SameFailureNodes must be at least 2 (one node alone cannot tell its own fault from the job's); it is {options.SameFailureNodes}.");
        }

        if (options.ReputationHalfLife <= TimeSpan.Zero)
        {
            failures.Add($"{S}:ReputationHalfLife must be positive, e.g. \"00:10:00\"; it is {options.ReputationHalfLife}.");
        }

        if (options.NodeRefreshInterval <= TimeSpan.Zero || options.ReputationFlushInterval <= TimeSpan.Zero)
        {
            failures.Add($"{S}:NodeRefreshInterval and {S}:ReputationFlushInterval must be positive, e.g. \"00:00:01\".");
        }

        if (options.JobSweepInterval < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{S}:JobSweepInterval must be at least a second, e.g. \"00:00:30\"; it is {options.JobSweepInterval}.");
        }

        if (options.MaxInputObjects < 0 || options.MaxInputBytes < 0)
        {
            failures.Add($"{S}:MaxInputObjects and {S}:MaxInputBytes cannot be negative.");
        }

        if (options.MaxOutputBytes < 1 || options.MaxStdinBytes < 0 || options.MaxModuleBytes < 8)
        {
            failures.Add($"{S}:MaxOutputBytes, {S}:MaxStdinBytes and {S}:MaxModuleBytes must be positive.");
        }

        if (options.MaxArgs < 0 || options.MaxArgsBytes < 0 || options.MaxEnvVars < 0 || options.MaxEnvBytes < 0)
        {
            failures.Add($"{S}:MaxArgs, {S}:MaxArgsBytes, {S}:MaxEnvVars and {S}:MaxEnvBytes cannot be negative (0 allows none).");
        }

        if (options.MaxEntryLength < JobSpec.WasiStart.Length)
        {
            failures.Add($"{S}:MaxEntryLength must be at least {JobSpec.WasiStart.Length} (the length of {JobSpec.WasiStart}); it is {options.MaxEntryLength}.");
        }

        if (options.MaxModuleBytes >= 8 && options.MaxStdinBytes >= 0 && options.MaxJobRequestBytes < MinJobRequestBytes(options))
        {
            failures.Add($"{S}:MaxJobRequestBytes must leave room for a module of {S}:MaxModuleBytes and a stdin of {S}:MaxStdinBytes in base64, with the other fields: at least {MinJobRequestBytes(options)}; it is {options.MaxJobRequestBytes}.");
        }

        if (options.MaxNestingDepth < 0)
        {
            failures.Add($"{S}:MaxNestingDepth must not be negative (0 turns nested jobs off); it is {options.MaxNestingDepth}.");
        }

        if (options.MinReputation is < 0 or >= 1)
        {
            failures.Add($"{S}:MinReputation must be in [0, 1); it is {options.MinReputation}.");
        }

        if (options.StuckRunGrace <= TimeSpan.Zero || options.MaxStuckRuns < 0)
        {
            failures.Add($"{S}:StuckRunGrace must be positive (e.g. \"00:00:05\") and {S}:MaxStuckRuns must not be negative; they are {options.StuckRunGrace} and {options.MaxStuckRuns}.");
        }

        if (options.RunMemoryOverheadBytes < 0)
        {
            failures.Add($"{S}:RunMemoryOverheadBytes must not be negative; it is {options.RunMemoryOverheadBytes}.");
        }

        if (options.PoisonAfterRestarts < 1)
        {
            failures.Add($"{S}:PoisonAfterRestarts must be at least 1; it is {options.PoisonAfterRestarts}.");
        }

        if (options.NodeTimeBudget < 1 + JobSpec.MaxValidators)
        {
            failures.Add($"{S}:NodeTimeBudget must be at least {1 + JobSpec.MaxValidators} (wall times), so a job with the most validators can run once on each node; it is {options.NodeTimeBudget}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// The smallest <see cref="ComputeOptions.MaxJobRequestBytes"/> that fits the largest valid job: the module and stdin in
    /// base64, the arguments and environment unescaped, and 64 KiB for the JSON around them and the other fields.
    /// </summary>
    public static long MinJobRequestBytes(ComputeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        static long Base64(long bytes) => (bytes + 2) / 3 * 4;
        return Base64(options.MaxModuleBytes) + Base64(options.MaxStdinBytes) + (long)options.MaxArgsBytes + options.MaxEnvBytes + (64 << 10);
    }
}
