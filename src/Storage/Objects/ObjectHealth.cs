using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Objects;

/// <summary>How many shards of each stripe of an object are healthy (on a live node and not reported bad by a scrub).</summary>
/// <param name="Stripes">One entry per stripe.</param>
public sealed record ObjectHealth(IReadOnlyList<StripeHealth> Stripes)
{
    /// <summary>The fewest healthy shards of any stripe (k + m for an empty object, which has nothing to lose).</summary>
    public int MinHealthyShards { get; init; }

    /// <summary>Healthy shards over all stripes.</summary>
    public long HealthyShards => Stripes.Sum(s => (long)s.Healthy);

    /// <summary>Shards over all stripes.</summary>
    public long TotalShards => Stripes.Sum(s => (long)s.Total);

    /// <summary>Every shard of every stripe is healthy.</summary>
    public bool IsFullyHealthy => Stripes.All(s => s.Healthy == s.Total);

    /// <summary>Every stripe still has at least k healthy shards, so the object can be read and repaired.</summary>
    public bool IsReadable => Stripes.All(s => s.Healthy >= s.Required);

    /// <summary>Evaluates <paramref name="manifest"/> against the live nodes and the shards scrubs reported bad.</summary>
    /// <param name="manifest">The object.</param>
    /// <param name="liveNodes">The nodes that are up.</param>
    /// <param name="badShards">Shards reported corrupt or missing; null when none are known.</param>
    public static ObjectHealth Evaluate(ObjectManifest manifest, IReadOnlySet<string> liveNodes, IReadOnlySet<ShardId>? badShards = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(liveNodes);
        var stripes = manifest.Stripes.Select(s => new StripeHealth(
            s.Index,
            s.Shards.Count(p => IsHealthy(p, liveNodes, badShards)),
            manifest.TotalShards,
            manifest.DataShards)).ToArray();
        return new ObjectHealth(stripes) { MinHealthyShards = stripes.Length == 0 ? manifest.TotalShards : stripes.Min(s => s.Healthy) };
    }

    internal static bool IsHealthy(ShardPlacement placement, IReadOnlySet<string> liveNodes, IReadOnlySet<ShardId>? badShards) =>
        liveNodes.Contains(placement.NodeId) && (badShards is null || !badShards.Contains(placement.ShardId));
}

/// <summary>The health of one stripe.</summary>
/// <param name="Index">The stripe index.</param>
/// <param name="Healthy">Its healthy shards.</param>
/// <param name="Total">k + m.</param>
/// <param name="Required">k: the fewest shards that still recover the stripe.</param>
public sealed record StripeHealth(int Index, int Healthy, int Total, int Required);
