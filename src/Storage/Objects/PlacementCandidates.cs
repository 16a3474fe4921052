using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Storage.Objects;

/// <summary>Builds placement candidates from what the nodes report.</summary>
public static class PlacementCandidates
{
    /// <summary>Asks each of <paramref name="liveNodes"/> for its stats; nodes that do not answer are left out.</summary>
    public static async Task<IReadOnlyList<PlacementCandidate>> FromStatsAsync(IShardClient client, IEnumerable<string> liveNodes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(liveNodes);
        var tasks = liveNodes.Distinct(StringComparer.Ordinal).Select(async node =>
        {
            try
            {
                var stats = await client.GetStatsAsync(node, cancellationToken);
                return new PlacementCandidate(node, stats.FreeBytes, Math.Max(1, stats.Volumes.Count(v => v.FreeBytes > 0)));
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                return null;
            }
        }).ToArray();
        var results = await Task.WhenAll(tasks);
        return results.OfType<PlacementCandidate>().ToArray();
    }
}
