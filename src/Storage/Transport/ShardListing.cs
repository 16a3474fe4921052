using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Transport;

/// <summary>One shard in a node's listing: what orphan reclamation needs to know about it.</summary>
/// <param name="Id">The shard id.</param>
/// <param name="CreatedUtc">When the node stored the shard.</param>
public sealed record ShardListing(ShardId Id, DateTimeOffset CreatedUtc)
{
    /// <summary>The most shards one listing call returns; larger requested pages are refused (HTTP 400) or clamped (in process).</summary>
    public const int MaxPageSize = 1000;
}
