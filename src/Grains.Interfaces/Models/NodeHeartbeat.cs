namespace Xmbl.Cluster.Grains.Interfaces.Models;

/// <summary>A node's periodic sign of life with its current load.</summary>
/// <param name="At">When the heartbeat was sent.</param>
/// <param name="RunningJobs">Jobs running on the node now.</param>
/// <param name="UsedStorageBytes">Bytes of shards the node holds.</param>
public sealed record NodeHeartbeat(DateTimeOffset At, int RunningJobs, long UsedStorageBytes);
