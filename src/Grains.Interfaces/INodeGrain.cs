using Xmbl.Cluster.Grains.Interfaces.Models;

namespace Xmbl.Cluster.Grains.Interfaces;

/// <summary>A compute-and-storage node of the cluster, keyed by its identity (<c>did:key:…</c>).</summary>
/// <remarks>
/// Nodes announce what they offer and heartbeat; liveness is derived from the last heartbeat, so a node that
/// stops heartbeating is dead without anyone having to say so.
/// </remarks>
[Alias("xmbl.INodeGrain")]
public interface INodeGrain : IGrainWithStringKey
{
    /// <summary>Registers the node, or updates its announcement (resources, prices, address) when it restarts.</summary>
    Task<NodeInfo> RegisterAsync(NodeRegistration registration);

    /// <summary>Records a heartbeat with the node's current load.</summary>
    /// <exception cref="InvalidOperationException">The node never registered.</exception>
    Task HeartbeatAsync(NodeHeartbeat heartbeat);

    /// <summary>Marks the node as leaving on purpose (clean shutdown), so schedulers stop picking it at once.</summary>
    Task RetireAsync(DateTimeOffset at);

    /// <summary>
    /// Applies its operator's <paramref name="settings"/> (resources, prices) over what the node announces, now and at
    /// every later registration; returns the record as it is now.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node never registered.</exception>
    Task<NodeInfo> UpdateSettingsAsync(NodeSettings settings);

    /// <summary>
    /// Starts a graceful leave holding <paramref name="shards"/> shards, unless one is under way or done (then returns
    /// that one): from now on the node is given no new jobs and no new shards.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node never registered.</exception>
    Task<NodeLeave> BeginLeaveAsync(DateTimeOffset at, int shards);

    /// <summary>Records the leave's progress, its end (<see cref="NodeLeavePhase.Left"/> also retires the node) or why it stopped.</summary>
    Task UpdateLeaveAsync(NodeLeave leave);

    /// <summary>The node's record, or null when it never registered.</summary>
    [ReadOnly]
    Task<NodeInfo?> GetAsync();
}
