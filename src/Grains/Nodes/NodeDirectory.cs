using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Options;
using Xmbl.Cluster.Runtime;

namespace Xmbl.Cluster.Grains.Nodes;

/// <summary>Reads the node registry: every node's record and whether it is alive now.</summary>
/// <remarks>A read without locks over the node grains' state; for listings and scheduling, not for decisions that need a lock.</remarks>
public sealed class NodeDirectory
{
    private const int PageSize = 500;
    private readonly IGrainStateQuery _query;
    private readonly TimeProvider _time;
    private readonly TimeSpan _deathTimeout;

    /// <summary>Creates the directory.</summary>
    public NodeDirectory(IGrainStateQuery query, TimeProvider time, IOptions<NodeOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _query = query;
        _time = time;
        _deathTimeout = options.Value.DeathTimeout;
    }

    /// <summary>Every registered node, ordered by id, with its liveness at the time of the call.</summary>
    public async Task<IReadOnlyList<NodeStatus>> ListAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        var result = new List<NodeStatus>();
        string? after = null;
        while (true)
        {
            var page = await _query.ListAsync<NodeGrainState>(nameof(INodeGrain), keyPrefix: null, afterKey: after, limit: PageSize, cancellationToken);
            foreach (var entry in page)
            {
                if (entry.State.Node is { } node)
                {
                    result.Add(new NodeStatus(node, node.IsAlive(now, _deathTimeout)));
                }
            }

            if (page.Count < PageSize)
            {
                return result;
            }

            after = page[^1].Key;
        }
    }
}

/// <summary>A node's record with its liveness.</summary>
/// <param name="Node">The record.</param>
/// <param name="Alive">Whether it heartbeated within the death timeout and has not retired.</param>
public sealed record NodeStatus(NodeInfo Node, bool Alive);
