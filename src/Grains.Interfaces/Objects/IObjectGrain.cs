using Xmbl.Cluster.Storage.Objects;

namespace Xmbl.Cluster.Grains.Interfaces.Objects;

/// <summary>The committed version of one stored object, keyed <c>namespace/name</c>.</summary>
/// <remarks>
/// Shards are written before the manifest is committed here, so an object becomes visible only when all its stripes
/// are durable, and concurrent writers to one name each commit a whole manifest: the last commit wins, never a mix.
/// The manifest is the storage layer's type; it crosses grain calls through the JSON codec that
/// <see cref="Xmbl.Cluster.Grains.Interfaces.ClusterSerialization"/> registers for that library's types.
/// </remarks>
[Alias("xmbl.IObjectGrain")]
public interface IObjectGrain : IGrainWithStringKey
{
    /// <summary>Makes <paramref name="version"/> the visible version; returns the version it replaced, whose shards the caller reclaims.</summary>
    Task<StoredObject?> CommitAsync(StoredObject version);

    /// <summary>The visible version, or null.</summary>
    [ReadOnly]
    Task<StoredObject?> GetAsync();

    /// <summary>Removes the object; returns the removed version, whose shards the caller reclaims.</summary>
    Task<StoredObject?> DeleteAsync();

    /// <summary>
    /// Swaps in a repaired manifest, only if <paramref name="versionId"/> is still the visible version (a newer write wins over a repair).
    /// </summary>
    Task<bool> ReplaceManifestAsync(string versionId, ObjectManifest repaired);

    /// <summary>
    /// Swaps in <paramref name="replacement"/> only if the visible manifest still names exactly the shards of
    /// <paramref name="expected"/>: a newer write, a repair or a leaving node's hand-off that came first wins, and the
    /// caller deletes the shards it wrote.
    /// </summary>
    Task<bool> SwapManifestAsync(ObjectManifest expected, ObjectManifest replacement);
}

/// <summary>One version of an object: its manifest and who wrote it.</summary>
/// <param name="VersionId">Unique per write; compared by repairs so they never overwrite a newer version.</param>
/// <param name="Owner">The account that wrote it (charged for its bytes).</param>
/// <param name="Manifest">Stripes, shard places and hashes.</param>
[GenerateSerializer, Immutable, Alias("xmbl.StoredObject")]
public sealed record StoredObject(string VersionId, string Owner, ObjectManifest Manifest);
