namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>Persistent state of a <see cref="NodeReputationGrain"/>.</summary>
internal sealed class NodeReputationGrainState
{
    public double Score { get; set; } = Xmbl.Cluster.Grains.Interfaces.Jobs.NodeReputation.InitialScore;

    public long Agreements { get; set; }

    public long Disagreements { get; set; }

    public long Timeouts { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public long CorruptShards { get; set; }

    /// <summary>The ids of the last <see cref="NodeReputationGrain.CountedShardsKept"/> corrupt shards counted, oldest first.</summary>
    public List<string> CountedShards { get; set; } = [];
}
