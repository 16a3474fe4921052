using System.Collections.Concurrent;

namespace Xmbl.Cluster.Storage.Transport;

/// <summary>Finds the base HTTP address of a cluster member by node id (from membership, or from configuration).</summary>
public interface IShardNodeResolver
{
    /// <summary>The base address of <paramref name="nodeId"/>, when known.</summary>
    bool TryResolve(string nodeId, out Uri baseAddress);
}

/// <summary>A resolver over a fixed or updatable map of node id → base address.</summary>
public sealed class StaticShardNodeResolver : IShardNodeResolver
{
    private readonly ConcurrentDictionary<string, Uri> _addresses = new(StringComparer.Ordinal);

    /// <summary>Creates a resolver holding <paramref name="addresses"/>.</summary>
    public StaticShardNodeResolver(IEnumerable<KeyValuePair<string, string>>? addresses = null)
    {
        foreach (var (node, address) in addresses ?? [])
        {
            Set(node, new Uri(address, UriKind.Absolute));
        }
    }

    /// <summary>Adds or replaces the address of <paramref name="nodeId"/>.</summary>
    public void Set(string nodeId, Uri baseAddress) => _addresses[nodeId] = baseAddress;

    /// <summary>Forgets <paramref name="nodeId"/>.</summary>
    public bool Remove(string nodeId) => _addresses.TryRemove(nodeId, out _);

    /// <inheritdoc/>
    public bool TryResolve(string nodeId, out Uri baseAddress)
    {
        if (_addresses.TryGetValue(nodeId, out var found))
        {
            baseAddress = found;
            return true;
        }

        baseAddress = null!;
        return false;
    }
}
