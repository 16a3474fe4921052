using System.Collections.Concurrent;
using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Transport;

/// <summary>The shard stores hosted by this process, by node id (one in cluster mode, one per logical node in embedded mode).</summary>
public sealed class ShardNodeRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, IShardStore> _stores = new(StringComparer.Ordinal);

    /// <summary>The ids of the hosted nodes.</summary>
    public IReadOnlyCollection<string> NodeIds => _stores.Keys.ToArray();

    /// <summary>Hosts <paramref name="store"/> as node <paramref name="nodeId"/>.</summary>
    /// <exception cref="ArgumentException">The node id is not valid or is already hosted.</exception>
    public void Add(string nodeId, IShardStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        NodeIds_Validate(nodeId);
        if (!_stores.TryAdd(nodeId, store))
        {
            throw new ArgumentException($"Node '{nodeId}' already has a shard store.", nameof(nodeId));
        }
    }

    /// <summary>Stops hosting <paramref name="nodeId"/> (its files stay on disk); false when it was not hosted.</summary>
    public bool Remove(string nodeId) => _stores.TryRemove(nodeId, out _);

    /// <summary>Hosts <paramref name="store"/> as node <paramref name="nodeId"/>, replacing the store it had (a node that reconnected).</summary>
    /// <exception cref="ArgumentException">The node id is not valid.</exception>
    public void Set(string nodeId, IShardStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        NodeIds_Validate(nodeId);
        _stores[nodeId] = store;
    }

    /// <summary>Stops hosting <paramref name="nodeId"/> only while <paramref name="store"/> is its store (not one that replaced it).</summary>
    public bool Remove(string nodeId, IShardStore store) => _stores.TryRemove(KeyValuePair.Create(nodeId, store));

    /// <summary>The store of <paramref name="nodeId"/>, when hosted here.</summary>
    public bool TryGet(string nodeId, out IShardStore store)
    {
        if (nodeId is not null && _stores.TryGetValue(nodeId, out var found))
        {
            store = found;
            return true;
        }

        store = null!;
        return false;
    }

    /// <summary>Whether <paramref name="nodeId"/> can name a node: 1-200 characters of <c>[A-Za-z0-9._:-]</c> (safe in a URL path segment).</summary>
    public static bool IsValidNodeId(string? nodeId)
    {
        if (string.IsNullOrEmpty(nodeId) || nodeId.Length > 200)
        {
            return false;
        }

        foreach (var c in nodeId)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Disposes the hosted stores that are disposable (each store tolerates being disposed twice).</summary>
    public void Dispose()
    {
        foreach (var store in _stores.Values)
        {
            (store as IDisposable)?.Dispose();
        }

        _stores.Clear();
    }

    private static void NodeIds_Validate(string nodeId)
    {
        if (!IsValidNodeId(nodeId))
        {
            throw new ArgumentException($"'{nodeId}' is not a valid node id (1-200 characters of [A-Za-z0-9._:-]).", nameof(nodeId));
        }
    }
}
