namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>Validation outcomes of one node to add to its reputation.</summary>
/// <param name="Agreements">Results that matched the accepted one.</param>
/// <param name="Disagreements">Results outvoted by the majority.</param>
/// <param name="Timeouts">Assignments that ran out of time.</param>
/// <param name="At">When the outcomes were observed.</param>
[GenerateSerializer, Immutable, Alias("xmbl.ReputationDelta")]
public sealed record ReputationDelta(int Agreements, int Disagreements, int Timeouts, DateTimeOffset At);
