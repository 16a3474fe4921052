namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>A node's reputation from validation outcomes, keyed by the node id.</summary>
[Alias("xmbl.INodeReputationGrain")]
public interface INodeReputationGrain : IGrainWithStringKey
{
    /// <summary>Adds outcomes to the score.</summary>
    /// <param name="delta">The outcomes.</param>
    /// <returns>The reputation after the change.</returns>
    Task<NodeReputation> RecordAsync(ReputationDelta delta);

    /// <summary>The node's reputation (the initial one when it has no history).</summary>
    /// <returns>The reputation.</returns>
    [ReadOnly]
    Task<NodeReputation> GetAsync();
}
