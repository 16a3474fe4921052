namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>A node's reputation from validation outcomes, keyed by the node id.</summary>
[Alias("xmbl.INodeReputationGrain")]
public interface INodeReputationGrain : IGrainWithStringKey
{
    /// <summary>Adds outcomes to the score.</summary>
    /// <param name="delta">The outcomes.</param>
    /// <returns>The reputation after the change.</returns>
    Task<NodeReputation> RecordAsync(ReputationDelta delta);

    /// <summary>
    /// Counts a shard the node holds altered (it sent back bytes that do not match the manifest, or a scrub found them
    /// corrupt) as one disagreement, once per shard: a shard already counted changes nothing, so many reads of one bad
    /// shard, from any silo, cost the node once.
    /// </summary>
    /// <param name="shardId">The shard.</param>
    /// <param name="at">When it was found.</param>
    /// <returns>The reputation after the change.</returns>
    Task<NodeReputation> RecordCorruptShardAsync(string shardId, DateTimeOffset at);

    /// <summary>The node's reputation (the initial one when it has no history).</summary>
    /// <returns>The reputation.</returns>
    [ReadOnly]
    Task<NodeReputation> GetAsync();
}
