namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>The accepted result of a job (the output bytes are served separately).</summary>
/// <param name="ResultHash">SHA-256 over output, exit code, fuel and outcome, lower-case hex; what validators compare.</param>
/// <param name="Outcome">How the run ended.</param>
/// <param name="ExitCode">The exit code (0 for a function that returned; see docs/jobs.md for traps).</param>
/// <param name="Fuel">Fuel the run used.</param>
/// <param name="OutputLength">Bytes of output.</param>
/// <param name="Detail">The trap or failure message, if any.</param>
/// <param name="NodeId">The node whose report is the accepted result (the executor unless it was outvoted).</param>
[GenerateSerializer, Immutable, Alias("xmbl.JobResult")]
public sealed record JobResult(string ResultHash, RunOutcome Outcome, int ExitCode, long Fuel, int OutputLength, string? Detail, string NodeId);
