using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>One shard store per local node, each on its own volume under <c>{node}/shards</c>.</summary>
/// <remarks>
/// In embedded mode this gives five independent stores on one machine, so 3-of-5 coding spreads over five nodes
/// exactly as in a cluster. The stores are registered in the <see cref="ShardNodeRegistry"/> that both the local
/// shard client and the members-only HTTP shard endpoints serve from.
/// </remarks>
public sealed class NodeShardStores : INodeLoadReporter, IDisposable
{
    private readonly Dictionary<string, LocalShardStore> _stores = new(StringComparer.Ordinal);
    private readonly ShardNodeRegistry _registry = new();

    /// <summary>Opens (creating on first use) a store for every local node.</summary>
    public NodeShardStores(LocalNodes nodes, NodeAnnouncement announcement, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(announcement);
        foreach (var node in nodes.All)
        {
            var volume = new StorageVolumeOptions
            {
                Name = "shards",
                Path = Path.Combine(node.Directory, "shards"),
                CapacityBytes = announcement.Resources.StorageBytes,
            };
            var store = new LocalShardStore([volume], timeProvider: time);
            _stores.Add(node.Id, store);
            _registry.Add(node.Id, store);
        }

        nodes.OnlineChanged += (node, online) => SetOnline(node.Id, online);
    }

    /// <summary>The online local stores, as the shard client and the members-only shard endpoints see them.</summary>
    public ShardNodeRegistry Registry => _registry;

    /// <summary>The store of a local node.</summary>
    public bool TryGet(string nodeId, out LocalShardStore store) => _stores.TryGetValue(nodeId, out store!);

    /// <summary>Whether a node is hosted by this silo.</summary>
    public bool IsLocal(string nodeId) => _stores.ContainsKey(nodeId);

    private void SetOnline(string nodeId, bool online)
    {
        if (!_stores.TryGetValue(nodeId, out var store))
        {
            return;
        }

        if (online)
        {
            if (!_registry.TryGet(nodeId, out _))
            {
                _registry.Add(nodeId, store);
            }
        }
        else
        {
            _registry.Remove(nodeId);
        }
    }

    /// <inheritdoc/>
    public NodeLoad GetLoad(LocalNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return _stores.TryGetValue(node.Id, out var store)
            ? new NodeLoad(0, store.GetStatsAsync().GetAwaiter().GetResult().UsedBytes)
            : default;
    }

    /// <summary>Closes every store's index.</summary>
    public void Dispose()
    {
        foreach (var store in _stores.Values)
        {
            store.Dispose();
        }
    }
}
