namespace Xmbl.Cluster.Grains.Interfaces.Models;

/// <summary>A node as the cluster knows it.</summary>
/// <param name="NodeId">The node's identity (<c>did:key:…</c>).</param>
/// <param name="SiloId">The silo process hosting the node.</param>
/// <param name="Address">Where other members reach the node.</param>
/// <param name="Operator">Who runs the node.</param>
/// <param name="Resources">What the node offers.</param>
/// <param name="Prices">What the node charges.</param>
/// <param name="RegisteredAt">When the node first registered.</param>
/// <param name="LastHeartbeat">When the node last heartbeated (or registered).</param>
/// <param name="RunningJobs">Jobs running at the last heartbeat.</param>
/// <param name="UsedStorageBytes">Bytes of shards held at the last heartbeat.</param>
/// <param name="Retired">True when the node left on purpose.</param>
/// <param name="ReservedMemoryBytes">Memory admitted to its runs at the last heartbeat.</param>
/// <param name="Unhealthy">Why the node takes no jobs (e.g. runs stuck past their wall-clock limit), or null.</param>
/// <param name="Leave">Its graceful leave, once the operator asked for one; null otherwise.</param>
/// <param name="Edge">True for an edge node (a public peer connected through the gateway's libp2p bridge).</param>
/// <param name="Relayed">True for an edge node served by a standalone gateway: its work goes through its
/// <c>IEdgeRelayGrain</c> (<paramref name="SiloId"/> names the gateway, no silo).</param>
[GenerateSerializer, Immutable, Alias("xmbl.NodeInfo")]
public sealed record NodeInfo(
    string NodeId,
    string SiloId,
    string Address,
    string Operator,
    NodeResources Resources,
    NodePrices Prices,
    DateTimeOffset RegisteredAt,
    DateTimeOffset LastHeartbeat,
    int RunningJobs,
    long UsedStorageBytes,
    bool Retired,
    long ReservedMemoryBytes = 0,
    string? Unhealthy = null,
    NodeLeave? Leave = null,
    bool Edge = false,
    bool Relayed = false)
{
    /// <summary>Whether the node may be given new jobs and new shards: not while it leaves or once it left.</summary>
    public bool AcceptsWork => Leave is not { TakesNoWork: true };

    /// <summary>A node is alive when it has not retired and heartbeated within <paramref name="deathTimeout"/>.</summary>
    public bool IsAlive(DateTimeOffset now, TimeSpan deathTimeout) => !Retired && now - LastHeartbeat <= deathTimeout;
}
