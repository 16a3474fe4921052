namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>A node's standing from validation outcomes.</summary>
/// <param name="NodeId">The node.</param>
/// <param name="Score">From 0 to 1; rises slowly with agreements, falls fast with disagreements and timeouts.</param>
/// <param name="Agreements">Results that matched the accepted one.</param>
/// <param name="Disagreements">Results outvoted by the majority.</param>
/// <param name="Timeouts">Assignments that ran out of time.</param>
/// <param name="UpdatedAt">When the score last changed.</param>
/// <param name="CorruptShards">Shards it held and sent back altered (each counted once), weighed as disagreements.</param>
[GenerateSerializer, Immutable, Alias("xmbl.NodeReputation")]
public sealed record NodeReputation(string NodeId, double Score, long Agreements, long Disagreements, long Timeouts, DateTimeOffset UpdatedAt, long CorruptShards = 0)
{
    /// <summary>The score of a node without history.</summary>
    public const double InitialScore = 0.5;
}
