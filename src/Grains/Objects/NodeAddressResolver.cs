using System.Collections.Concurrent;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Resolves node ids to their silos' addresses from the node registry, refreshed whenever nodes are listed.</summary>
public sealed class NodeAddressResolver : IShardNodeResolver
{
    private readonly ConcurrentDictionary<string, Uri> _addresses = new(StringComparer.Ordinal);

    /// <summary>Records the addresses of the listed nodes.</summary>
    public void Update(IEnumerable<NodeStatus> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        foreach (var status in nodes)
        {
            if (Uri.TryCreate(status.Node.Address, UriKind.Absolute, out var uri))
            {
                _addresses[status.Node.NodeId] = uri;
            }
        }
    }

    /// <inheritdoc/>
    public bool TryResolve(string nodeId, out Uri baseAddress) => _addresses.TryGetValue(nodeId, out baseAddress!);
}
