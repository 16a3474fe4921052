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

    /// <summary>Every node of this silo, in index order.</summary>
    public IReadOnlyList<LocalNode> All { get; }
}
