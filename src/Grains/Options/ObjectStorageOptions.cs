namespace Xmbl.Cluster.Grains.Options;

/// <summary>How the cluster keeps objects healthy, bound from <c>Xmbl:Storage</c> (beside the codec settings of <c>StorageOptions</c>).</summary>
public sealed class ObjectStorageOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Xmbl:Storage";

    /// <summary>Default interval between repair passes.</summary>
    public static readonly TimeSpan DefaultRepairPeriod = TimeSpan.FromMinutes(5);

    /// <summary>Interval between repair passes (scrub every object's shards, rebuild missing or bad ones); zero turns the reminder off.</summary>
    public TimeSpan RepairPeriod { get; set; } = DefaultRepairPeriod;

    /// <summary>Default age a shard no manifest names must reach before a repair pass deletes it as an orphan.</summary>
    public static readonly TimeSpan DefaultOrphanGracePeriod = TimeSpan.FromHours(1);

    /// <summary>
    /// How old a shard that no committed manifest names must be before a repair pass deletes it as an orphan. A write
    /// in progress has stored shards that no manifest names yet, so this must be much longer than the longest write.
    /// Default <see cref="DefaultOrphanGracePeriod"/>; must be positive.
    /// </summary>
    public TimeSpan OrphanGracePeriod { get; set; } = DefaultOrphanGracePeriod;
}
