namespace Xmbl.Cluster.Grains.Interfaces.Models;

/// <summary>A node's periodic sign of life with its current load.</summary>
/// <param name="At">When the heartbeat was sent.</param>
/// <param name="RunningJobs">Jobs running on the node now.</param>
/// <param name="UsedStorageBytes">Bytes of shards the node holds.</param>
/// <param name="ReservedMemoryBytes">Memory admitted to the node's runs (their caps plus overhead), stuck runs included.</param>
/// <param name="Unhealthy">Why the node takes no jobs now, or null when it does.</param>
[GenerateSerializer, Immutable, Alias("xmbl.NodeHeartbeat")]
public sealed record NodeHeartbeat(DateTimeOffset At, int RunningJobs, long UsedStorageBytes, long ReservedMemoryBytes = 0, string? Unhealthy = null);
