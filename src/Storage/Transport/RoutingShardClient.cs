using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Transport;

/// <summary>Calls the stores of nodes hosted in this process directly and reaches every other node through <paramref name="remote"/>.</summary>
/// <param name="registry">The nodes hosted here.</param>
/// <param name="remote">The transport to other members (normally <see cref="HttpShardClient"/>).</param>
public sealed class RoutingShardClient(ShardNodeRegistry registry, IShardClient remote) : IShardClient
{
    private readonly LocalShardClient _local = new(registry);

    /// <inheritdoc/>
    public Task<ShardInfo> PutAsync(string nodeId, ShardId shardId, Stream content, long length, string? sha256, CancellationToken cancellationToken = default) =>
        Pick(nodeId).PutAsync(nodeId, shardId, content, length, sha256, cancellationToken);

    /// <inheritdoc/>
    public Task<Stream> OpenReadAsync(string nodeId, ShardId shardId, string? expectedSha256, CancellationToken cancellationToken = default) =>
        Pick(nodeId).OpenReadAsync(nodeId, shardId, expectedSha256, cancellationToken);

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default) =>
        Pick(nodeId).DeleteAsync(nodeId, shardId, cancellationToken);

    /// <inheritdoc/>
    public Task<ShardScrubResult> ScrubAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default) =>
        Pick(nodeId).ScrubAsync(nodeId, shardId, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<ShardListing>> ListAsync(string nodeId, ShardId? after, int limit, CancellationToken cancellationToken = default) =>
        Pick(nodeId).ListAsync(nodeId, after, limit, cancellationToken);

    /// <inheritdoc/>
    public Task<ShardStoreStats> GetStatsAsync(string nodeId, CancellationToken cancellationToken = default) =>
        Pick(nodeId).GetStatsAsync(nodeId, cancellationToken);

    private IShardClient Pick(string nodeId) => registry.TryGet(nodeId, out _) ? _local : remote;
}
