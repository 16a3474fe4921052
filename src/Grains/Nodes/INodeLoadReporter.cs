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
/// <param name="ReservedMemoryBytes">Memory admitted to runs (caps plus overhead).</param>
/// <param name="Unhealthy">Why the node should take no jobs now, or null.</param>
public readonly record struct NodeLoad(int RunningJobs, long UsedStorageBytes, long ReservedMemoryBytes = 0, string? Unhealthy = null)
{
    /// <summary>Adds two loads (an unhealthy part makes the node unhealthy).</summary>
    public static NodeLoad operator +(NodeLoad a, NodeLoad b) => new(
        a.RunningJobs + b.RunningJobs,
        a.UsedStorageBytes + b.UsedStorageBytes,
        a.ReservedMemoryBytes + b.ReservedMemoryBytes,
        a.Unhealthy is null ? b.Unhealthy : b.Unhealthy is null ? a.Unhealthy : a.Unhealthy + "; " + b.Unhealthy);

    /// <summary>Adds two loads.</summary>
    public static NodeLoad Add(NodeLoad a, NodeLoad b) => a + b;
}
