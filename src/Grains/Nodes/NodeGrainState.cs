using Xmbl.Cluster.Grains.Interfaces.Models;

namespace Xmbl.Cluster.Grains.Nodes;

/// <summary>Persistent state of a <see cref="NodeGrain"/>.</summary>
public sealed class NodeGrainState
{
    /// <summary>The node record; null until the node registers.</summary>
    public NodeInfo? Node { get; set; }
}
