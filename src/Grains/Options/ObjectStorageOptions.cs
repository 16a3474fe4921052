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
}
