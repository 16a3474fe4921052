using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Runtime;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>Reads every node's reputation without locks, for <c>/api/cluster</c> and dashboards.</summary>
public sealed class ReputationDirectory
{
    private const int PageSize = 1000;
    private readonly IGrainStateQuery _query;

    /// <summary>Creates the directory.</summary>
    /// <param name="query">The grain state query.</param>
    public ReputationDirectory(IGrainStateQuery query)
    {
        _query = query;
    }

    /// <summary>Every node with reputation history, by node id (nodes without history have <see cref="NodeReputation.InitialScore"/>).</summary>
    /// <param name="ct">Cancels the read.</param>
    /// <returns>Node id → reputation.</returns>
    public async Task<IReadOnlyDictionary<string, NodeReputation>> ListAsync(CancellationToken ct = default)
    {
        var result = new Dictionary<string, NodeReputation>(StringComparer.Ordinal);
        string? after = null;
        while (true)
        {
            var page = await _query.ListAsync<NodeReputationGrainState>(nameof(INodeReputationGrain), null, after, PageSize, ct);
            foreach (var entry in page)
            {
                result[entry.Key] = NodeReputationGrain.ToRecord(entry.Key, entry.State);
            }

            if (page.Count < PageSize)
            {
                return result;
            }

            after = page[^1].Key;
        }
    }
}
