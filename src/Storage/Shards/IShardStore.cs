namespace Xmbl.Cluster.Storage.Shards;

/// <summary>A node's local shard store: shard files on one or more volumes, indexed by shard id.</summary>
/// <remarks>
/// Writes are atomic: a shard is written to a temporary file, flushed to disk and renamed into place, so a reader
/// never sees a half-written shard. Every shard's SHA-256 is computed while it streams in and checked when it is read.
/// </remarks>
public interface IShardStore
{
    /// <summary>Stores <paramref name="content"/> as shard <paramref name="id"/>, replacing any shard with that id.</summary>
    /// <param name="id">The shard id.</param>
    /// <param name="content">The shard bytes, read to the end.</param>
    /// <param name="expectedLength">The length when known; used to pick a volume with room and checked against what arrives.</param>
    /// <param name="expectedSha256">The lowercase hex SHA-256 the content must have, when known; a mismatch throws <see cref="ShardCorruptException"/> and stores nothing.</param>
    /// <param name="cancellationToken">Cancels the write; nothing is stored.</param>
    /// <returns>The index entry of the stored shard.</returns>
    Task<ShardInfo> PutAsync(ShardId id, Stream content, long? expectedLength = null, string? expectedSha256 = null, CancellationToken cancellationToken = default);

    /// <summary>Opens shard <paramref name="id"/> for reading; the stream throws <see cref="ShardCorruptException"/> at its end when the bytes do not match the indexed hash.</summary>
    /// <exception cref="ShardNotFoundException">The shard is not stored.</exception>
    Task<Stream> OpenReadAsync(ShardId id, CancellationToken cancellationToken = default);

    /// <summary>The index entry of shard <paramref name="id"/>, or null when it is not stored.</summary>
    Task<ShardInfo?> GetInfoAsync(ShardId id, CancellationToken cancellationToken = default);

    /// <summary>Deletes shard <paramref name="id"/>; false when it was not stored.</summary>
    Task<bool> DeleteAsync(ShardId id, CancellationToken cancellationToken = default);

    /// <summary>Lists every stored shard.</summary>
    IAsyncEnumerable<ShardInfo> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Lists the stored shards whose ids sort after <paramref name="after"/> (ordinal order), or every shard when it is null.</summary>
    IAsyncEnumerable<ShardInfo> ListAsync(ShardId? after, CancellationToken cancellationToken = default);

    /// <summary>Re-hashes one shard's file and compares it with the index.</summary>
    Task<ShardScrubResult> ScrubAsync(ShardId id, CancellationToken cancellationToken = default);

    /// <summary>Re-hashes every shard file and reports the corrupt and missing ones.</summary>
    Task<ShardScrubReport> ScrubAllAsync(CancellationToken cancellationToken = default);

    /// <summary>Used and free bytes per volume.</summary>
    Task<ShardStoreStats> GetStatsAsync(CancellationToken cancellationToken = default);
}
