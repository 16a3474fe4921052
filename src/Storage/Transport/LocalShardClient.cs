using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Transport;

/// <summary>An <see cref="IShardClient"/> for nodes hosted in this process (embedded mode): calls their stores directly.</summary>
/// <param name="registry">The hosted nodes; a node missing from it is unavailable.</param>
public sealed class LocalShardClient(ShardNodeRegistry registry) : IShardClient
{
    /// <inheritdoc/>
    public Task<ShardInfo> PutAsync(string nodeId, ShardId shardId, Stream content, long length, string? sha256, CancellationToken cancellationToken = default) =>
        Store(nodeId).PutAsync(shardId, content, length, sha256, cancellationToken);

    /// <inheritdoc/>
    public async Task<Stream> OpenReadAsync(string nodeId, ShardId shardId, string? expectedSha256, CancellationToken cancellationToken = default)
    {
        var store = Store(nodeId);
        if (expectedSha256 is not null)
        {
            // The store verifies against its index; make sure the index agrees with what the caller expects.
            var info = await store.GetInfoAsync(shardId, cancellationToken) ?? throw new ShardNotFoundException(shardId, nodeId);
            if (!string.Equals(info.Sha256, expectedSha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new ShardCorruptException(shardId, expectedSha256, info.Sha256, $"node '{nodeId}' indexes a different hash");
            }
        }

        try
        {
            return await store.OpenReadAsync(shardId, cancellationToken);
        }
        catch (ShardNotFoundException)
        {
            throw new ShardNotFoundException(shardId, nodeId);
        }
    }

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default) =>
        Store(nodeId).DeleteAsync(shardId, cancellationToken);

    /// <inheritdoc/>
    public Task<ShardScrubResult> ScrubAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default) =>
        Store(nodeId).ScrubAsync(shardId, cancellationToken);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ShardListing>> ListAsync(string nodeId, ShardId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, ShardListing.MaxPageSize);
        var page = new List<ShardListing>(limit);
        await foreach (var info in Store(nodeId).ListAsync(after, cancellationToken))
        {
            page.Add(new ShardListing(info.Id, info.CreatedUtc));
            if (page.Count == limit)
            {
                break;
            }
        }

        return page;
    }

    /// <inheritdoc/>
    public Task<ShardStoreStats> GetStatsAsync(string nodeId, CancellationToken cancellationToken = default) =>
        Store(nodeId).GetStatsAsync(cancellationToken);

    private IShardStore Store(string nodeId) =>
        registry.TryGet(nodeId, out var store) ? store : throw new ShardNodeUnavailableException(nodeId, "no such node is hosted in this process");
}
