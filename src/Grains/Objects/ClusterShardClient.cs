using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Reaches a node's shard store directly when this silo hosts it, over the members-only HTTP endpoints otherwise.</summary>
public sealed class ClusterShardClient : IShardClient
{
    private readonly ShardNodeRegistry _local;
    private readonly LocalShardClient _localClient;
    private readonly IShardClient? _remote;

    /// <summary>Creates the client.</summary>
    /// <param name="local">The stores hosted in this process.</param>
    /// <param name="remote">The HTTP client for other silos' nodes; null in embedded mode, where every node is local.</param>
    public ClusterShardClient(ShardNodeRegistry local, IShardClient? remote)
    {
        _local = local;
        _localClient = new LocalShardClient(local);
        _remote = remote;
    }

    /// <inheritdoc/>
    public Task<ShardInfo> PutAsync(string nodeId, ShardId shardId, Stream content, long length, string? sha256, CancellationToken cancellationToken = default) =>
        For(nodeId).PutAsync(nodeId, shardId, content, length, sha256, cancellationToken);

    /// <inheritdoc/>
    public Task<Stream> OpenReadAsync(string nodeId, ShardId shardId, string? expectedSha256, CancellationToken cancellationToken = default) =>
        For(nodeId).OpenReadAsync(nodeId, shardId, expectedSha256, cancellationToken);

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default) =>
        For(nodeId).DeleteAsync(nodeId, shardId, cancellationToken);

    /// <inheritdoc/>
    public Task<ShardScrubResult> ScrubAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default) =>
        For(nodeId).ScrubAsync(nodeId, shardId, cancellationToken);

    /// <inheritdoc/>
    public Task<ShardStoreStats> GetStatsAsync(string nodeId, CancellationToken cancellationToken = default) =>
        For(nodeId).GetStatsAsync(nodeId, cancellationToken);

    // A local node that is stopped is missing from the registry; it must fail as unavailable, not be tried over HTTP.
    private IShardClient For(string nodeId) => _local.TryGet(nodeId, out _) || _remote is null ? _localClient : _remote;
}
