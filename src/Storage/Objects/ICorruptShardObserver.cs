using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Objects;

/// <summary>
/// Told of every shard a node holds altered: the bytes it sent back do not match the manifest's SHA-256 or length
/// (<see cref="ShardCorruptException"/> on a read), or a scrub found them corrupt or indexed under another hash. A
/// missing shard, a timeout or an unreachable node is not an altered shard and is not reported.
/// </summary>
public interface ICorruptShardObserver
{
    /// <summary>
    /// Node <paramref name="nodeId"/> holds shard <paramref name="shardId"/> altered. The reader, scrub and repair call
    /// this at most once per shard in one pass (one read, one scrub of an object, one repair of it); further passes
    /// report it again, so the observer decides what a repeat is worth. Must not block: it is called on the read path.
    /// </summary>
    /// <param name="nodeId">The holder.</param>
    /// <param name="shardId">The shard.</param>
    void OnCorruptShard(string nodeId, ShardId shardId);
}
