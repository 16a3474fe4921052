using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Storage.Tests.Support;

/// <summary>N logical nodes in this process, each a <see cref="LocalShardStore"/> in its own temp directory (the embedded-mode layout).</summary>
public sealed class LocalNodes : IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly Dictionary<string, LocalShardStore> _stores = new(StringComparer.Ordinal);

    public LocalNodes(int count, int volumesPerNode = 1)
    {
        for (var n = 0; n < count; n++)
        {
            var id = $"node-{n}";
            var volumes = Enumerable.Range(0, volumesPerNode)
                .Select(v => new StorageVolumeOptions { Name = $"vol{v}", Path = _root.Sub($"{id}/vol{v}") })
                .ToArray();
            var store = new LocalShardStore(volumes, _root.Sub($"{id}/index.db"));
            _stores[id] = store;
            Registry.Add(id, store);
        }

        Client = new LocalShardClient(Registry);
        VolumesPerNode = volumesPerNode;
    }

    public ShardNodeRegistry Registry { get; } = new();

    public LocalShardClient Client { get; }

    public int VolumesPerNode { get; }

    public IReadOnlyCollection<string> NodeIds => _stores.Keys;

    public LocalShardStore Store(string nodeId) => _stores[nodeId];

    /// <summary>Candidates for every node still registered (a removed node is dead).</summary>
    public IReadOnlyList<PlacementCandidate> Candidates() =>
        Registry.NodeIds.Order(StringComparer.Ordinal).Select(id => new PlacementCandidate(id, 1L << 40, VolumesPerNode)).ToArray();

    public IReadOnlySet<string> LiveNodes() => Registry.NodeIds.ToHashSet(StringComparer.Ordinal);

    /// <summary>Simulates a node dying: it leaves the registry, so the transport cannot reach it.</summary>
    public void Kill(string nodeId) => Registry.Remove(nodeId);

    /// <summary>The path of a shard's file, for damaging it.</summary>
    public string ShardFile(ShardPlacement placement)
    {
        var store = _stores[placement.NodeId];
        var info = store.GetInfoAsync(placement.ShardId).GetAwaiter().GetResult()!;
        var volume = System.IO.Path.Combine(_root.Path, placement.NodeId, info.Volume);
        var id = placement.ShardId.Value;
        return System.IO.Path.Combine(volume, "shards", id[..2], id);
    }

    /// <summary>The number of shards stored on all nodes.</summary>
    public async Task<long> TotalShardsAsync()
    {
        long total = 0;
        foreach (var store in _stores.Values)
        {
            total += (await store.GetStatsAsync()).ShardCount;
        }

        return total;
    }

    public void Dispose()
    {
        foreach (var store in _stores.Values)
        {
            store.Dispose();
        }

        _root.Dispose();
    }
}
