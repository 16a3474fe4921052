using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Objects;

/// <summary>Everything needed to read, check and repair one stored object; the object becomes visible when the caller commits it.</summary>
/// <param name="Namespace">The object's namespace.</param>
/// <param name="Name">The object's name within the namespace.</param>
/// <param name="Size">The object's length in bytes.</param>
/// <param name="ContentType">The media type given when it was written.</param>
/// <param name="Sha256">The lowercase hex SHA-256 of the whole object.</param>
/// <param name="DataShards">k: data shards per stripe.</param>
/// <param name="ParityShards">m: parity shards per stripe.</param>
/// <param name="ShardSize">The shard size of full stripes; a stripe holds up to k × this many bytes of the object.</param>
/// <param name="Stripes">The stripes in order.</param>
/// <param name="CreatedUtc">When the write finished.</param>
public sealed record ObjectManifest(
    string Namespace,
    string Name,
    long Size,
    string ContentType,
    string Sha256,
    int DataShards,
    int ParityShards,
    int ShardSize,
    IReadOnlyList<StripeManifest> Stripes,
    DateTimeOffset CreatedUtc)
{
    /// <summary>k + m.</summary>
    public int TotalShards => DataShards + ParityShards;

    /// <summary>The object bytes a full stripe holds: k × shard size.</summary>
    public long StripeDataSize => (long)DataShards * ShardSize;

    /// <summary>Every shard placement of every stripe.</summary>
    public IEnumerable<ShardPlacement> AllShards => Stripes.SelectMany(s => s.Shards);
}

/// <summary>One stripe: a run of up to k × shard size object bytes, coded into k + m shards of <see cref="ShardLength"/> bytes.</summary>
/// <param name="Index">The stripe's position, from 0.</param>
/// <param name="Length">The object bytes in this stripe (less than k × shard size only for the last stripe).</param>
/// <param name="ShardLength">The length of each of its shards: the shard size for full stripes, <c>ceil(Length / k)</c> for a short last stripe (its last data shard zero-padded).</param>
/// <param name="Shards">Where its k + m shards are, ordered by shard index (data shards first).</param>
public sealed record StripeManifest(int Index, int Length, int ShardLength, IReadOnlyList<ShardPlacement> Shards);

/// <summary>Where one shard of a stripe is kept.</summary>
/// <param name="ShardIndex">0..k-1 for data shards, k..k+m-1 for parity shards.</param>
/// <param name="NodeId">The node holding it.</param>
/// <param name="ShardId">Its id on that node.</param>
/// <param name="Sha256">The lowercase hex SHA-256 of its bytes.</param>
public sealed record ShardPlacement(int ShardIndex, string NodeId, ShardId ShardId, string Sha256);
