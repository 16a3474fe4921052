using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Transport;

/// <summary>Reaches the shard store of any cluster member (or logical node) by node id.</summary>
/// <remarks>
/// Failures surface as <see cref="ShardNotFoundException"/>, <see cref="ShardCorruptException"/>,
/// <see cref="ShardStoreFullException"/> or <see cref="ShardNodeUnavailableException"/>; other <see cref="IOException"/>s
/// mean the transfer broke.
/// </remarks>
public interface IShardClient
{
    /// <summary>Stores <paramref name="content"/> (exactly <paramref name="length"/> bytes) as <paramref name="shardId"/> on <paramref name="nodeId"/>.</summary>
    /// <param name="nodeId">The node that keeps the shard.</param>
    /// <param name="shardId">The shard id.</param>
    /// <param name="content">The shard bytes.</param>
    /// <param name="length">The shard length.</param>
    /// <param name="sha256">The content's lowercase hex SHA-256 when known; the node refuses the shard if the bytes it receives differ.</param>
    /// <param name="cancellationToken">Cancels the transfer; nothing is stored.</param>
    Task<ShardInfo> PutAsync(string nodeId, ShardId shardId, Stream content, long length, string? sha256, CancellationToken cancellationToken = default);

    /// <summary>Opens a shard for reading; the stream throws <see cref="ShardCorruptException"/> at its end when the bytes do not hash to <paramref name="expectedSha256"/> (or to the node's indexed hash when that is null).</summary>
    Task<Stream> OpenReadAsync(string nodeId, ShardId shardId, string? expectedSha256, CancellationToken cancellationToken = default);

    /// <summary>Deletes a shard; false when the node did not have it.</summary>
    Task<bool> DeleteAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default);

    /// <summary>Has the node re-hash one shard file and report its state.</summary>
    Task<ShardScrubResult> ScrubAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default);

    /// <summary>One page of the node's shards, in ordinal id order, after <paramref name="after"/> (null for the first page); a page shorter than <paramref name="limit"/> is the last.</summary>
    /// <param name="nodeId">The node whose shards to list.</param>
    /// <param name="after">The last id of the previous page, or null.</param>
    /// <param name="limit">The page size, 1 to <see cref="ShardListing.MaxPageSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<IReadOnlyList<ShardListing>> ListAsync(string nodeId, ShardId? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>The node's used and free bytes per volume.</summary>
    Task<ShardStoreStats> GetStatsAsync(string nodeId, CancellationToken cancellationToken = default);
}
