using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Persistence.Sql;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Options;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>Reads every node's reputation without locks, for <c>/api/cluster</c> and dashboards.</summary>
public sealed class ReputationDirectory
{
    private const int PageSize = 1000;
    private readonly IGrainStateQuery _query;
    private readonly TimeProvider _time;
    private readonly TimeSpan _halfLife;

    /// <summary>Creates the directory.</summary>
    /// <param name="query">The grain state query.</param>
    /// <param name="time">The clock the scores' recovery is read at.</param>
    /// <param name="options">The compute options (<see cref="ComputeOptions.ReputationHalfLife"/>).</param>
    public ReputationDirectory(IGrainStateQuery query, [FromKeyedServices(ClusterClock.Key)] TimeProvider time, IOptions<ComputeOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _query = query;
        _time = time;
        _halfLife = options.Value.ReputationHalfLife;
    }

    /// <summary>Every node with reputation history, by node id (nodes without history have <see cref="NodeReputation.InitialScore"/>).</summary>
    /// <param name="ct">Cancels the read.</param>
    /// <returns>Node id → reputation, as it stands now (recovery applied).</returns>
    public async Task<IReadOnlyDictionary<string, NodeReputation>> ListAsync(CancellationToken ct = default)
    {
        var result = new Dictionary<string, NodeReputation>(StringComparer.Ordinal);
        var now = _time.GetUtcNow();
        string? after = null;
        while (true)
        {
            var page = await _query.ListAsync<NodeReputationGrainState>(GrainStates.Reputation, null, after, PageSize, ct);
            foreach (var entry in page)
            {
                result[entry.Key] = NodeReputationGrain.ToRecord(entry.Key, entry.State, now, _halfLife);
            }

            if (page.Count < PageSize)
            {
                return result;
            }

            after = page[^1].Key;
        }
    }
}
