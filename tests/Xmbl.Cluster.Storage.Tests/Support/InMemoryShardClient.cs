using System.Collections.Concurrent;
using System.Security.Cryptography;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Storage.Tests.Support;

/// <summary>A transport that keeps shards in memory and completes every call synchronously (the edge case for task bookkeeping).</summary>
public sealed class InMemoryShardClient : IShardClient
{
    private readonly ConcurrentDictionary<(string Node, ShardId Id), byte[]> _shards = new();

    public Task<ShardInfo> PutAsync(string nodeId, ShardId shardId, Stream content, long length, string? sha256, CancellationToken cancellationToken = default)
    {
        using var copy = new MemoryStream();
        content.CopyTo(copy);
        var bytes = copy.ToArray();
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (sha256 is not null && sha != sha256)
        {
            throw new ShardCorruptException(shardId, sha256, sha);
        }

        _shards[(nodeId, shardId)] = bytes;
        return Task.FromResult(new ShardInfo(shardId, "mem", bytes.Length, sha, DateTimeOffset.UnixEpoch));
    }

    public Task<Stream> OpenReadAsync(string nodeId, ShardId shardId, string? expectedSha256, CancellationToken cancellationToken = default)
    {
        if (!_shards.TryGetValue((nodeId, shardId), out var bytes))
        {
            return Task.FromException<Stream>(new ShardNotFoundException(shardId, nodeId));
        }

        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return expectedSha256 is not null && sha != expectedSha256
            ? Task.FromException<Stream>(new ShardCorruptException(shardId, expectedSha256, sha))
            : Task.FromResult<Stream>(new MemoryStream(bytes, writable: false));
    }

    public Task<bool> DeleteAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_shards.TryRemove((nodeId, shardId), out _));

    public Task<ShardScrubResult> ScrubAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ShardScrubResult(shardId, _shards.ContainsKey((nodeId, shardId)) ? ShardHealthStatus.Healthy : ShardHealthStatus.Missing, null, null));

    public Task<ShardStoreStats> GetStatsAsync(string nodeId, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ShardStoreStats([new ShardVolumeStats("mem", "", 0, 0, 1L << 40)]));

    public Task<IReadOnlyList<ShardListing>> ListAsync(string nodeId, ShardId? after, int limit, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ShardListing>>([.. _shards.Keys
            .Where(k => k.Node == nodeId && (after is null || string.CompareOrdinal(k.Id.Value, after.Value.Value) > 0))
            .Select(k => k.Id)
            .Order(Comparer<ShardId>.Create((a, b) => string.CompareOrdinal(a.Value, b.Value)))
            .Take(limit)
            .Select(id => new ShardListing(id, DateTimeOffset.UnixEpoch))]);

    public void Remove(string nodeId, ShardId shardId) => _shards.TryRemove((nodeId, shardId), out _);
}
