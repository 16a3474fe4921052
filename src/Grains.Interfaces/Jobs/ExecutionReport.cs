namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>A node's report of one run.</summary>
/// <param name="AssignmentId">The assignment the run was for.</param>
/// <param name="NodeId">The reporting node.</param>
/// <param name="ResultHash">SHA-256 over output, exit code, fuel and outcome, lower-case hex.</param>
/// <param name="Output">The output bytes (standard output, or the returned values as text).</param>
/// <param name="ExitCode">The exit code.</param>
/// <param name="Fuel">Fuel used.</param>
/// <param name="Outcome">How the run ended.</param>
/// <param name="Detail">The trap or failure message, if any.</param>
/// <param name="Duration">How long the run took on the node (for the scheduler's latency estimate).</param>
[GenerateSerializer, Immutable, Alias("xmbl.ExecutionReport")]
public sealed record ExecutionReport(
    int AssignmentId,
    string NodeId,
    string ResultHash,
    byte[] Output,
    int ExitCode,
    long Fuel,
    RunOutcome Outcome,
    string? Detail,
    TimeSpan Duration);
