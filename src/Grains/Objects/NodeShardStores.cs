using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>
/// One shard store per local node. With no <c>Xmbl:Storage:Volumes</c> configured, each node has one volume under
/// <c>{node}/shards</c>; otherwise each node has a volume <c>{volume path}/node-{index}</c> on every configured volume,
/// with that volume's name, capacity and direct I/O setting, and keeps its index in the first.
/// </summary>
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
    public NodeShardStores(LocalNodes nodes, NodeAnnouncement announcement, IOptions<StorageOptions> options, [FromKeyedServices(ClusterClock.Key)] TimeProvider time, ILogger<LocalShardStore> logger)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(announcement);
        ArgumentNullException.ThrowIfNull(options);
        var configured = options.Value.Volumes;
        if (configured.Count > 0 && options.Value.IndexPath is not null)
        {
            // One index file cannot serve several nodes' stores.
            throw new InvalidOperationException($"{StorageOptions.SectionName}:IndexPath is not supported by the silo: each logical node keeps its shard index in its first volume. Remove the setting.");
        }

        foreach (var node in nodes.All)
        {
            StorageVolumeOptions[] volumes = configured.Count == 0
                ?
                [
                    new StorageVolumeOptions
                    {
                        Name = "shards",
                        Path = Path.Combine(node.Directory, "shards"),
                        CapacityBytes = announcement.Resources.StorageBytes,
                    },
                ]
                : [.. configured.Select(v => NodeVolume(v, node))];
            var store = new LocalShardStore(volumes, timeProvider: time, logger: logger);
            _stores.Add(node.Id, store);
            _registry.Add(node.Id, store);
        }

        nodes.OnlineChanged += (node, online) => SetOnline(node.Id, online);
    }

    /// <summary>The part of a configured volume that belongs to <paramref name="node"/>.</summary>
    public static StorageVolumeOptions NodeVolume(StorageVolumeOptions volume, LocalNode node)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(node);
        return new StorageVolumeOptions
        {
            Name = volume.Name,
            Path = Path.Combine(volume.Path, $"node-{node.Index}"),
            CapacityBytes = volume.CapacityBytes,
            DirectIo = volume.DirectIo,
        };
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
