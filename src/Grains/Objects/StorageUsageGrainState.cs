namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Persistent state of a <see cref="StorageUsageGrain"/>.</summary>
public sealed class StorageUsageGrainState
{
    /// <summary>Logical bytes stored.</summary>
    public long Bytes { get; set; }

    /// <summary>Objects stored.</summary>
    public int Objects { get; set; }
}
