namespace Xmbl.Cluster.Grains.Nodes;

/// <summary>Reports part of a local node's current load (the executor its running jobs, the shard store its bytes).</summary>
public interface INodeLoadReporter
{
    /// <summary>This reporter's share of the node's load now.</summary>
    NodeLoad GetLoad(LocalNode node);
}

/// <summary>A node's load at one moment.</summary>
/// <param name="RunningJobs">Jobs running.</param>
/// <param name="UsedStorageBytes">Bytes of shards held.</param>
public readonly record struct NodeLoad(int RunningJobs, long UsedStorageBytes)
{
    /// <summary>Adds two loads.</summary>
    public static NodeLoad operator +(NodeLoad a, NodeLoad b) => new(a.RunningJobs + b.RunningJobs, a.UsedStorageBytes + b.UsedStorageBytes);

    /// <summary>Adds two loads.</summary>
    public static NodeLoad Add(NodeLoad a, NodeLoad b) => a + b;
}
