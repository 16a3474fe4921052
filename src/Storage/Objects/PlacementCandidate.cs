namespace Xmbl.Cluster.Storage.Objects;

/// <summary>A live node that may receive shards.</summary>
/// <param name="NodeId">The node id.</param>
/// <param name="FreeBytes">The bytes it has free for shards.</param>
/// <param name="VolumeCount">How many volumes it has (shards of one stripe on one node go to distinct volumes up to this many).</param>
/// <param name="Excluded">Live, so the shards it holds count and are read, but given no new ones (the cluster stopped
/// trusting it: its reputation fell below the minimum). The writer, repair and hand-off leave it out of placement.</param>
public sealed record PlacementCandidate(string NodeId, long FreeBytes, int VolumeCount = 1, bool Excluded = false);

/// <summary>Chooses the nodes for the shards of a stripe.</summary>
public interface IPlacementPolicy
{
    /// <summary>Picks a node for each of <paramref name="shardCount"/> shards.</summary>
    /// <param name="stripeIndex">The stripe's index (lets policies rotate among equal nodes).</param>
    /// <param name="shardCount">How many shards to place.</param>
    /// <param name="shardLength">Each shard's length.</param>
    /// <param name="candidates">The live nodes with their free space.</param>
    /// <param name="occupied">Nodes already holding shards of this stripe (for repairs), with how many; they are used only after every other node.</param>
    /// <param name="lastResort">Nodes that lost or altered the shards being replaced: among nodes holding as many of the stripe's shards, they come last.</param>
    /// <returns>One node id per shard, in order.</returns>
    /// <exception cref="InsufficientShardNodesException">The candidates cannot take the shards.</exception>
    IReadOnlyList<string> Place(int stripeIndex, int shardCount, long shardLength, IReadOnlyList<PlacementCandidate> candidates, IReadOnlyDictionary<string, int>? occupied = null, IReadOnlySet<string>? lastResort = null);
}

/// <summary>Distinct nodes first, distinct volumes second: each shard goes to the candidate holding the fewest shards of the stripe so far, preferring one with a volume still free of the stripe, then the most free space.</summary>
/// <param name="allowSharedVolumes">When the nodes and their volumes run out, whether shards may double up on a volume (default true, so small clusters can still store with wide codes); when false such a placement throws.</param>
public sealed class DefaultPlacementPolicy(bool allowSharedVolumes = true) : IPlacementPolicy
{
    /// <summary>The shared default instance.</summary>
    public static DefaultPlacementPolicy Instance { get; } = new();

    /// <inheritdoc/>
    public IReadOnlyList<string> Place(int stripeIndex, int shardCount, long shardLength, IReadOnlyList<PlacementCandidate> candidates, IReadOnlyDictionary<string, int>? occupied = null, IReadOnlySet<string>? lastResort = null)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfNegative(shardCount);
        var n = candidates.Count;
        // Ties rotate with the stripe index so equal nodes take turns holding data shards.
        var order = Enumerable.Range(0, n)
            .OrderByDescending(i => candidates[i].FreeBytes)
            .ThenBy(i => ((long)i - stripeIndex % Math.Max(n, 1) + n) % Math.Max(n, 1))
            .ToArray();
        var counts = new int[n];
        var added = new int[n];
        var avoided = new bool[n];
        for (var i = 0; i < n; i++)
        {
            counts[i] = occupied is not null && occupied.TryGetValue(candidates[i].NodeId, out var c) ? c : 0;
            avoided[i] = lastResort is not null && lastResort.Contains(candidates[i].NodeId);
        }

        var result = new List<string>(shardCount);
        while (result.Count < shardCount)
        {
            var pick = Pick(order, candidates, counts, added, avoided, shardLength, distinctVolumes: true);
            if (pick < 0 && allowSharedVolumes)
            {
                pick = Pick(order, candidates, counts, added, avoided, shardLength, distinctVolumes: false);
            }

            if (pick < 0)
            {
                throw new InsufficientShardNodesException(
                    $"Cannot place {shardCount} shards of {shardLength} bytes on {n} candidate nodes ({result.Count} placed; distinct volumes {(allowSharedVolumes ? "preferred" : "required")}).");
            }

            counts[pick]++;
            added[pick]++;
            result.Add(candidates[pick].NodeId);
        }

        return result;
    }

    private static int Pick(int[] order, IReadOnlyList<PlacementCandidate> candidates, int[] counts, int[] added, bool[] avoided, long shardLength, bool distinctVolumes)
    {
        var best = -1;
        foreach (var i in order)
        {
            var c = candidates[i];
            if (c.FreeBytes - (added[i] * shardLength) < shardLength || (distinctVolumes && counts[i] >= Math.Max(1, c.VolumeCount)))
            {
                continue;
            }

            if (best < 0 || counts[i] < counts[best] || (counts[i] == counts[best] && avoided[best] && !avoided[i]))
            {
                best = i;
            }
        }

        return best;
    }
}
