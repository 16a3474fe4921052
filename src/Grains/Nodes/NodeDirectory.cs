using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Options;
using Xmbl.Cluster.Persistence.Sql;

namespace Xmbl.Cluster.Grains.Nodes;

/// <summary>Reads the node registry: every node's record and whether it is alive now.</summary>
/// <remarks>
/// Reads the node grains' stored state, not the grains; for listings and scheduling. Each listing also refreshes a
/// cache of the records, from which addresses and hosting silos are resolved without a read per request.
/// </remarks>
public sealed class NodeDirectory
{
    private const int PageSize = 500;
    private readonly IGrainStateQuery _query;
    private readonly TimeProvider _time;
    private readonly TimeSpan _deathTimeout;
    private readonly TimeSpan _heartbeatPeriod;
    private long _listedAtTicks; // 0 (year 1): never listed, so the first call lists
    private volatile IReadOnlyDictionary<string, NodeInfo> _cached = new Dictionary<string, NodeInfo>(StringComparer.Ordinal);

    /// <summary>Creates the directory.</summary>
    public NodeDirectory(IGrainStateQuery query, [FromKeyedServices(ClusterClock.Key)] TimeProvider time, IOptions<NodeOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _query = query;
        _time = time;
        _deathTimeout = options.Value.DeathTimeout;
        _heartbeatPeriod = options.Value.HeartbeatPeriod;
    }

    /// <summary>Every registered node, ordered by id, with its liveness at the time of the call.</summary>
    public async Task<IReadOnlyList<NodeStatus>> ListAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        var result = new List<NodeStatus>();
        var cache = new Dictionary<string, NodeInfo>(StringComparer.Ordinal);
        string? after = null;
        while (true)
        {
            var page = await _query.ListAsync<NodeGrainState>(GrainStates.Node, keyPrefix: null, afterKey: after, limit: PageSize, cancellationToken);
            foreach (var entry in page)
            {
                if (entry.State.Node is { } node)
                {
                    result.Add(new NodeStatus(node, node.IsAlive(now, _deathTimeout)));
                    cache[node.NodeId] = node;
                }
            }

            if (page.Count < PageSize)
            {
                _cached = cache;
                Volatile.Write(ref _listedAtTicks, now.UtcTicks);
                return result;
            }

            after = page[^1].Key;
        }
    }

    /// <summary>
    /// The most memory any registered node announces, or null before any registered; lists the registry again when the
    /// last listing is older than a heartbeat period (nodes announce no fresher figures).
    /// </summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The largest node's memory in bytes.</returns>
    public async ValueTask<long?> LargestNodeMemoryAsync(CancellationToken cancellationToken = default)
    {
        if (_time.GetUtcNow().UtcTicks - Volatile.Read(ref _listedAtTicks) > _heartbeatPeriod.Ticks)
        {
            await ListAsync(cancellationToken);
        }

        long? largest = null;
        foreach (var node in _cached.Values)
        {
            largest = Math.Max(largest ?? 0, node.Resources.MemoryBytes);
        }

        return largest;
    }

    /// <summary>A node's record as of the last listing (the scheduler lists every few seconds), or null when unknown.</summary>
    /// <param name="nodeId">The node.</param>
    /// <returns>The record.</returns>
    public NodeInfo? TryGet(string nodeId) => _cached.GetValueOrDefault(nodeId);

    /// <summary>A node's record from the cache, listing the registry once more when the node is not in it (it may be new).</summary>
    /// <param name="nodeId">The node.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The record, or null when the node never registered.</returns>
    public async ValueTask<NodeInfo?> GetAsync(string nodeId, CancellationToken cancellationToken = default)
    {
        if (TryGet(nodeId) is { } node)
        {
            return node;
        }

        await ListAsync(cancellationToken);
        return TryGet(nodeId);
    }
}

/// <summary>A node's record with its liveness.</summary>
/// <param name="Node">The record.</param>
/// <param name="Alive">Whether it heartbeated within the death timeout and has not retired.</param>
public sealed record NodeStatus(NodeInfo Node, bool Alive);
