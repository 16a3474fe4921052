namespace Xmbl.Cluster.Runtime;

/// <summary>One row of the membership table.</summary>
/// <param name="SiloId">The silo's unique id (one per process lifetime).</param>
/// <param name="Address">The address the silo advertises.</param>
/// <param name="Status">The silo's status.</param>
/// <param name="StartedAt">When the silo joined.</param>
/// <param name="LastHeartbeat">The silo's last heartbeat.</param>
public sealed record SiloEntry(string SiloId, string Address, SiloStatus Status, DateTimeOffset StartedAt, DateTimeOffset LastHeartbeat);
