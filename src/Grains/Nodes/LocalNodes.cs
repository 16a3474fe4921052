using System.Collections.Concurrent;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Grains.Nodes;

/// <summary>The nodes this silo hosts, with identities kept under <c>{data}/nodes/node-N/node.key</c>.</summary>
/// <remarks>Identities are created on first start and reused afterwards, so a node keeps its id (and reputation) across restarts.</remarks>
public sealed class LocalNodes
{
    /// <summary>Loads or creates <paramref name="count"/> node identities under <paramref name="dataDirectory"/>.</summary>
    public LocalNodes(string dataDirectory, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var nodes = new LocalNode[count];
        for (var i = 0; i < count; i++)
        {
            var directory = Path.Combine(dataDirectory, "nodes", $"node-{i}");
            nodes[i] = new LocalNode(i, KeyFile.LoadOrCreate(Path.Combine(directory, "node.key")), directory);
        }

        All = nodes;
    }

    private readonly ConcurrentDictionary<string, byte> _stopped = new(StringComparer.Ordinal);

    /// <summary>Raised after a node is stopped or started, with the node and whether it is now online.</summary>
    public event Action<LocalNode, bool>? OnlineChanged;

    /// <summary>Every node of this silo, in index order.</summary>
    public IReadOnlyList<LocalNode> All { get; }

    /// <summary>The node with this id, when this silo hosts it.</summary>
    public LocalNode? Find(string nodeId) => All.FirstOrDefault(n => string.Equals(n.Id, nodeId, StringComparison.Ordinal));

    /// <summary>Whether a node is running (heartbeating, serving shards, taking jobs).</summary>
    public bool IsOnline(LocalNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return !_stopped.ContainsKey(node.Id);
    }

    /// <summary>
    /// Stops or restarts one node of this silo as a crash would: a stopped node stops heartbeating (so the cluster
    /// sees it dead after the death timeout), and its shard store goes offline; once seen dead, the scheduler assigns it no new jobs.
    /// </summary>
    /// <remarks>For operators draining a machine in embedded mode, and for trying out repair on one machine.</remarks>
    public void SetOnline(LocalNode node, bool online)
    {
        ArgumentNullException.ThrowIfNull(node);
        var changed = online ? _stopped.TryRemove(node.Id, out _) : _stopped.TryAdd(node.Id, 0);
        if (changed)
        {
            OnlineChanged?.Invoke(node, online);
        }
    }
}
