namespace Xmbl.Cluster.Storage.Shards;

/// <summary>What a node's shard index knows about one stored shard.</summary>
/// <param name="Id">The shard id.</param>
/// <param name="Volume">The name of the volume holding the shard file.</param>
/// <param name="Length">The shard's length in bytes.</param>
/// <param name="Sha256">The lowercase hex SHA-256 of the shard's content, computed while it was written.</param>
/// <param name="CreatedUtc">When the shard was stored.</param>
public sealed record ShardInfo(ShardId Id, string Volume, long Length, string Sha256, DateTimeOffset CreatedUtc);
