using System.Collections.Concurrent;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Storage.Tests.Support;

/// <summary>Wraps a client to make chosen shards unreadable or chosen nodes refuse writes, without touching the stores.</summary>
public sealed class FaultInjectingShardClient(IShardClient inner) : IShardClient
{
    public ConcurrentDictionary<ShardId, byte> Hidden { get; } = new();

    public ConcurrentDictionary<string, byte> FailingPutNodes { get; } = new(StringComparer.Ordinal);

    /// <summary>Nodes that answer a put with the hash of other bytes than those sent (and keep nothing).</summary>
    public ConcurrentDictionary<string, byte> AlteringPutNodes { get; } = new(StringComparer.Ordinal);

    /// <summary>Nodes whose puts never answer until cancelled.</summary>
    public ConcurrentDictionary<string, byte> HangingPutNodes { get; } = new(StringComparer.Ordinal);

    /// <summary>Shards whose read never answers (a hung node) until cancelled.</summary>
    public ConcurrentDictionary<ShardId, byte> Hanging { get; } = new();

    /// <summary>When set, the put after this many successful puts throws.</summary>
    public int? FailPutAfter { get; set; }

    public int Reads => _reads;

    private int _reads;
    private int _puts;

    public Task<ShardInfo> PutAsync(string nodeId, ShardId shardId, Stream content, long length, string? sha256, CancellationToken cancellationToken = default)
    {
        if (FailingPutNodes.ContainsKey(nodeId))
        {
            throw new ShardNodeUnavailableException(nodeId, "injected failure");
        }

        if (HangingPutNodes.ContainsKey(nodeId))
        {
            return HangPutAsync(cancellationToken);
        }

        if (AlteringPutNodes.ContainsKey(nodeId))
        {
            throw new ShardCorruptException(shardId, sha256 ?? "", new string('0', 64), $"node '{nodeId}' received different bytes");
        }

        if (FailPutAfter is { } limit && Interlocked.Increment(ref _puts) > limit)
        {
            throw new IOException("Injected put failure.");
        }

        return inner.PutAsync(nodeId, shardId, content, length, sha256, cancellationToken);
    }

    public Task<Stream> OpenReadAsync(string nodeId, ShardId shardId, string? expectedSha256, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _reads);
        if (Hanging.ContainsKey(shardId))
        {
            return HangAsync(cancellationToken);
        }

        return Hidden.ContainsKey(shardId)
            ? Task.FromException<Stream>(new ShardNotFoundException(shardId, nodeId))
            : inner.OpenReadAsync(nodeId, shardId, expectedSha256, cancellationToken);
    }

    private static async Task<ShardInfo> HangPutAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("Unreachable.");
    }

    private static async Task<Stream> HangAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("Unreachable.");
    }

    public Task<bool> DeleteAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default) => inner.DeleteAsync(nodeId, shardId, cancellationToken);

    public Task<ShardScrubResult> ScrubAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default) => inner.ScrubAsync(nodeId, shardId, cancellationToken);

    public Task<IReadOnlyList<ShardListing>> ListAsync(string nodeId, ShardId? after, int limit, CancellationToken cancellationToken = default) => inner.ListAsync(nodeId, after, limit, cancellationToken);

    public Task<ShardStoreStats> GetStatsAsync(string nodeId, CancellationToken cancellationToken = default) => inner.GetStatsAsync(nodeId, cancellationToken);
}
