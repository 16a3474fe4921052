using Xmbl.Cluster.Grains.Interfaces.Objects;
namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Persistent state of an <see cref="ObjectGrain"/>.</summary>
public sealed class ObjectGrainState
{
    /// <summary>The visible version; null when the object does not exist (never written, or deleted).</summary>
    public StoredObject? Current { get; set; }
}
