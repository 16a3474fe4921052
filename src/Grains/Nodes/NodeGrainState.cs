using Xmbl.Cluster.Grains.Interfaces.Models;

namespace Xmbl.Cluster.Grains.Nodes;

/// <summary>Persistent state of a <see cref="NodeGrain"/>.</summary>
public sealed class NodeGrainState
{
    /// <summary>The node record; null until the node registers.</summary>
    public NodeInfo? Node { get; set; }

    /// <summary>What the operator changed at run time (<see cref="NodeGrain.UpdateSettingsAsync"/>); null when nothing.</summary>
    public NodeSettings? Settings { get; set; }

    /// <summary>The resources and prices the node itself announced last, before <see cref="Settings"/> apply.</summary>
    public NodeResources? AnnouncedResources { get; set; }

    /// <inheritdoc cref="AnnouncedResources"/>
    public NodePrices? AnnouncedPrices { get; set; }
}
